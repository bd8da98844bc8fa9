"""Mutated configs never crash the loader: only ConfigError escapes, and every problem is located.

Guards against validators that raise TypeError/AttributeError on unexpected shapes, against
error locations that cannot be mapped back to a key path, and against line numbers that point
outside the file.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.config import Config, ConfigError, parse_config
from agent.config.yaml_lines import load_yaml
from tests.config.conftest import CONFIGS_DIR

SOURCES = {
    name: load_yaml((CONFIGS_DIR / name).read_text(encoding="utf-8")).data
    for name in ("demo.yaml", "reference.yaml")
}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        ["PT5M", "PT1H", "meter", "battery", "mqtt", "local", "07:30", "EUR", "{env: X}", "0x10"]
    ),
)
junk = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.text(max_size=8), st.integers(0, 3)), inner, max_size=3),
    ),
    max_leaves=6,
)


def containers(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of every dict and list inside ``node`` (the root itself excluded)."""
    found = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in items:
        if isinstance(value, dict | list):
            found.append((*path, key))
            found += containers(value, (*path, key))
    return found


def at(node: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        node = node[key]
    return node


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = copy.deepcopy(SOURCES[draw(st.sampled_from(sorted(SOURCES)))])
    for _ in range(draw(st.integers(1, 4))):
        parent = at(data, draw(st.sampled_from([(), *containers(data)])))
        keys = list(parent) if isinstance(parent, dict) else list(range(len(parent)))
        if not keys:
            continue
        key = draw(st.sampled_from(keys))
        action = draw(st.sampled_from(["drop", "rename", "junk"]))
        if action == "drop":
            del parent[key]
        elif action == "rename" and isinstance(parent, dict):
            new = draw(st.one_of(st.text(max_size=10), st.just(str(key) + "x"), st.just(str(key)[:-1])))
            parent[new] = parent.pop(key)
        else:
            parent[key] = draw(junk)
    return data


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_config_raises_only_config_error_with_located_problems(data: dict[str, Any]) -> None:
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    n_lines = text.count("\n") + 1
    try:
        config = parse_config(text, "fuzz.yaml", env={})
    except ConfigError as e:
        assert e.problems
        for problem in e.problems:
            assert problem.path, problem
            assert problem.line is not None
            assert 1 <= problem.line <= n_lines, problem
            assert problem.message, problem
            assert problem.file == "fuzz.yaml"
    else:
        assert isinstance(config, Config)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_raises_only_config_error(text: str) -> None:
    try:
        parse_config(text, "fuzz.yaml", env={})
    except ConfigError as e:
        assert all(p.line is None or p.line >= 1 for p in e.problems)
