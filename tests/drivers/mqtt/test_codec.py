"""Properties of payload decoding, JSON paths and command encoding: only typed errors escape."""

from __future__ import annotations

import contextlib
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.errors import DriverConfigError
from drivers.mqtt.codec import check_write, decode_value, encode_write
from drivers.mqtt.errors import PayloadError
from drivers.mqtt.jsonpath import PathNotFound, PathSyntaxError, parse_path
from drivers.mqtt.topicmap import ValueSpec, builtin_maps, load_map

SPECS: list[tuple[str, ValueSpec]] = [
    (f"{m}.{name}", spec) for m in builtin_maps() for name, spec in load_map(m).values.items()
]
WRITES = [(f"{m}.{name}", spec) for m in builtin_maps() for name, spec in load_map(m).writes.items()]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def documents_near(spec: ValueSpec) -> st.SearchStrategy[Any]:
    """Documents that often have the spec's path, with anything at its end."""
    steps = parse_path(spec.path).steps

    def build(leaf: Any) -> Any:
        doc = leaf
        for step in reversed(steps):
            doc = [doc] if isinstance(step, int) else {step: doc}
        return doc

    return st.one_of(json_values.map(build), json_values)


payloads = st.one_of(
    st.binary(max_size=40),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.sampled_from([b"NaN", b"Infinity", b"-Infinity", b'{"a": NaN}', b"1e999", b"", b"  ", b"[" * 5000]),
)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), index=st.integers(min_value=0, max_value=len(SPECS) - 1))
def test_decode_returns_a_valid_value_or_raises_payload_error(data: st.DataObject, index: int) -> None:
    where, spec = SPECS[index]
    payload = data.draw(st.one_of(payloads, documents_near(spec).map(lambda d: json.dumps(d).encode())))
    try:
        value = decode_value(spec, payload, name=where, topic="t/x")
    except PayloadError as e:
        assert e.topic == "t/x"
        assert where in e.field
        return
    if spec.map is not None:
        assert value in spec.map.values()
    elif spec.type == "float":
        assert isinstance(value, float)
        assert math.isfinite(value)
        assert spec.min is None or value >= spec.min
        assert spec.max is None or value <= spec.max
    elif spec.type == "bool":
        assert isinstance(value, bool)
    else:
        assert isinstance(value, str)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_numbers_at_the_path_decode_scaled(data: st.DataObject) -> None:
    numeric = [(w, s) for w, s in SPECS if s.type == "float" and s.map is None]
    where, spec = data.draw(st.sampled_from(numeric))
    low = spec.min if spec.min is not None else -1e6
    high = spec.max if spec.max is not None else 1e6
    value = data.draw(st.floats(min_value=low, max_value=high, allow_nan=False))
    raw = (value - spec.offset) / spec.scale
    doc: Any = raw
    for step in reversed(parse_path(spec.path).steps):
        doc = [doc] if isinstance(step, int) else {step: doc}
    text = repr(raw) if spec.format == "text" else json.dumps(doc)
    try:
        got = decode_value(spec, text.encode(), name=where, topic="t")
    except PayloadError:
        # Only the round trip through scale may land a hair outside the range.
        assert math.isclose(raw * spec.scale + spec.offset, low) or math.isclose(
            raw * spec.scale + spec.offset, high
        )
        return
    assert got == pytest.approx(value, rel=1e-9, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("ab.[]0123$ _")), max_size=16))
def test_parse_path_returns_a_path_or_a_syntax_error(text: str) -> None:
    try:
        path = parse_path(text)
    except PathSyntaxError:
        return
    with contextlib.suppress(PathNotFound):  # a wrong shape is fine; any other error is not
        path.find({"a": [{"b": 1}], "b": 2})


@settings(max_examples=200, deadline=None)
@given(doc=json_values, data=st.data())
def test_path_built_from_a_document_finds_its_element(doc: Any, data: st.DataObject) -> None:
    parts: list[str] = []
    node = doc
    while isinstance(node, dict | list) and node and data.draw(st.booleans()):
        if isinstance(node, list):
            i = data.draw(st.integers(min_value=0, max_value=len(node) - 1))
            parts.append(f"[{i}]")
            node = node[i]
        else:
            keys = [k for k in node if k and not set(k) & set(".[]") and k != "$"]
            if not keys:
                break
            k = data.draw(st.sampled_from(keys))
            parts.append(("." if parts else "") + k)
            node = node[k]
    text = "".join(parts)
    assert parse_path(text).find(doc) == node


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_writes_are_in_range_or_refused(data: st.DataObject) -> None:
    where, spec = data.draw(st.sampled_from(WRITES))
    value = data.draw(st.one_of(st.floats(), st.booleans(), st.integers(-100, 100), st.text(max_size=5)))
    try:
        sent = check_write(spec, value, name=where)
    except DriverConfigError as e:
        assert e.field == f"writes.{where}"
        return
    payload = encode_write(spec, sent)
    assert isinstance(payload, bytes)
    if spec.type == "float":
        assert isinstance(sent, float)
        assert isinstance(value, int | float)
        assert sent <= value  # integer writes round down, never up
        zero = spec.when_zero is not None and sent == 0
        assert zero or (spec.min is not None and spec.max is not None and spec.min <= sent <= spec.max)
