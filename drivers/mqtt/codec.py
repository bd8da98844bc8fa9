"""Payload bytes → typed value (per :class:`ValueSpec`) and value → command payload (per
:class:`WriteSpec`).

Decoding trusts nothing: bad UTF-8, malformed JSON, NaN/Infinity (which Python's ``json`` would
accept), a missing path, a wrong type or an implausible number all raise :class:`PayloadError`
naming the topic and the value, and no value comes out. Encoding refuses values outside the map's
range with :class:`~drivers.errors.DriverConfigError` before anything is sent.
"""

from __future__ import annotations

import json
import math
from typing import Any

from drivers.errors import DriverConfigError
from drivers.mqtt.errors import PayloadError
from drivers.mqtt.jsonpath import PathNotFound
from drivers.mqtt.topicmap import Scalar, ValueSpec, WriteSpec, map_key

# Device state messages are a few hundred bytes; anything this big is not one of them.
MAX_PAYLOAD_BYTES = 64 * 1024
_TRUE = frozenset({"true", "1", "on", "yes"})
_FALSE = frozenset({"false", "0", "off", "no"})


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def parse_document(payload: bytes, fmt: str) -> Any:
    """The payload as a JSON document (``json``) or stripped text (``text``); ValueError if not."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"payload is not UTF-8 ({e.reason} at byte {e.start})") from e
    if fmt == "text":
        return text.strip()
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError as e:
        raise ValueError("malformed JSON: nested too deeply") from e
    except ValueError as e:  # JSONDecodeError is a ValueError
        raise ValueError(f"malformed JSON: {e}") from e


def decode_value(
    spec: ValueSpec, payload: bytes, *, name: str, topic: str, device: str | None = None
) -> Scalar:
    def fail(message: str, cause: BaseException | None = None) -> PayloadError:
        err = PayloadError(message, topic=topic, field=f"{name} ({spec.path or '$'})", device=device)
        err.__cause__ = cause
        return err

    try:
        document = parse_document(payload, spec.format)
        raw = spec.json_path.find(document)
    except (ValueError, PathNotFound) as e:
        raise fail(str(e), e) from e
    if spec.map is not None:
        if isinstance(raw, dict | list):
            raise fail(f"expected a scalar, got {type(raw).__name__}")
        key = map_key(raw)
        if key not in spec.map:
            raise fail(f"unexpected value {key!r}; expected one of {', '.join(map(repr, spec.map))}")
        return spec.map[key]
    if spec.type == "bool":
        return _to_bool(raw, fail)
    if spec.type == "str":
        if not isinstance(raw, str):
            raise fail(f"expected a string, got {_kind(raw)}")
        return raw
    return _to_float(spec, raw, fail)


def _to_bool(raw: Any, fail: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        low = raw.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
    raise fail(f"expected a boolean (true/false, 0/1, on/off), got {_kind(raw)} {raw!r:.40}")


def _to_float(spec: ValueSpec, raw: Any, fail: Any) -> float:
    if spec.format == "text" and isinstance(raw, str):
        try:
            number = float(raw)
        except ValueError:
            raise fail(f"expected a number, got text {raw!r:.40}") from None
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        try:
            number = float(raw)
        except OverflowError:
            raise fail("number too large") from None
    else:
        raise fail(f"expected a number, got {_kind(raw)}")
    if not math.isfinite(number):
        raise fail(f"{number} is not a finite number")
    value = number * spec.scale + spec.offset
    if not math.isfinite(value):
        raise fail(f"{number} overflows after scaling")
    if spec.min is not None and value < spec.min:
        raise fail(f"{value:g} {spec.unit} is below the plausible minimum {spec.min:g}")
    if spec.max is not None and value > spec.max:
        raise fail(f"{value:g} {spec.unit} is above the plausible maximum {spec.max:g}")
    return value


def _kind(raw: Any) -> str:
    if raw is None:
        return "null"
    if isinstance(raw, bool):
        return "a boolean"
    if isinstance(raw, int | float):
        return "a number"
    if isinstance(raw, str):
        return "a string"
    return "a list" if isinstance(raw, list) else "an object"


def check_write(
    spec: WriteSpec,
    value: Scalar,
    *,
    name: str,
    device: str | None = None,
    configured: tuple[float, float] | None = None,
) -> Scalar:
    """The value as it will be sent (rounded down for integer writes), or DriverConfigError.

    A number must lie within both the map's range (what the device accepts) and ``configured``
    (the site's limits for this device), except 0 where the map defines a pause (``when_zero``).
    """
    field = f"writes.{name}"
    if spec.type == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise DriverConfigError(f"expected a number, got {value!r}", device=device, field=field)
        number = float(value)
        if not math.isfinite(number):
            raise DriverConfigError(f"{number} is not a finite number", device=device, field=field)
        if spec.integer:
            number = float(math.floor(number))
        zero_ok = spec.when_zero is not None and number == 0
        low, high = spec.min, spec.max
        if configured is not None:
            low = configured[0] if low is None else max(low, configured[0])
            high = configured[1] if high is None else min(high, configured[1])
        if not zero_ok and ((low is not None and number < low) or (high is not None and number > high)):
            raise DriverConfigError(
                f"{number:g} is outside the allowed range [{low:g}, {high:g}]; nothing was sent",
                device=device,
                field=field,
            )
        return number
    if spec.type == "bool" and not isinstance(value, bool):
        raise DriverConfigError(f"expected true or false, got {value!r}", device=device, field=field)
    if spec.type == "str" and not isinstance(value, str):
        raise DriverConfigError(f"expected a string, got {value!r}", device=device, field=field)
    if spec.map is not None and map_key(value) not in spec.map:
        allowed = ", ".join(spec.map)
        raise DriverConfigError(f"{value!r} is not one of {allowed}", device=device, field=field)
    return value


def encode_write(spec: WriteSpec, value: Scalar) -> bytes:
    """The command payload for an already checked value."""
    if spec.when_zero is not None and spec.type == "float" and value == 0:
        template: Any = spec.when_zero.payload
    elif spec.map is not None:
        template = spec.map[map_key(value)]
    else:
        template = spec.payload
    number: Any = int(value) if spec.integer and isinstance(value, float) else value
    filled = _fill(template, number)
    if spec.format == "text":
        return str(filled if not isinstance(filled, bool) else map_key(filled)).encode()
    return json.dumps(filled, separators=(",", ":"), allow_nan=False).encode()


def _fill(template: Any, value: Any) -> Any:
    if isinstance(template, str):
        if template == "{value}":
            return value
        return template.replace("{value}", map_key(value))
    if isinstance(template, dict):
        return {k: _fill(v, value) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, value) for v in template]
    return template
