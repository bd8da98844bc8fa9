"""Reading a message's bytes into a JSON object, strictly: UTF-8 only (no byte-order mark, no
UTF-16/32), at most 64 KiB, each key once, no NaN or infinity, no lone surrogates anywhere.
Every failure is a :class:`CodecError` naming ``message``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from agent.logsafe import clip
from agent.market import fields as f
from agent.market.errors import CodecError

MAX_MESSAGE_BYTES = 64 * 1024
_BOM = "\ufeff"


class _Refused(ValueError):
    """Raised inside the JSON parser's hooks; becomes a CodecError naming the message."""


def _reject_constant(name: str) -> Any:
    raise _Refused(f"{name} is not allowed")


def _check_text(value: object) -> None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _Refused("a string holds a lone surrogate (\\ud800-\\udfff escape)") from None
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        _check_text(key)
        _check_text(value)
        if key in out:
            raise _Refused(f"duplicate key {clip(key, f.MAX_KEY_CHARS)!r}")
        out[key] = value
    return out


def _text(raw: str | bytes) -> str:
    """The payload as text: UTF-8 only, as the wire contract says (no BOM, no UTF-16/32)."""
    if isinstance(raw, str):
        text = raw
    else:
        if b"\x00" in raw:
            raise CodecError("message", "must be UTF-8 JSON (a NUL byte: UTF-16 or UTF-32?)")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise CodecError("message", f"not UTF-8: {e.reason} at byte {e.start}") from None
    if text.startswith(_BOM):
        raise CodecError("message", "must be UTF-8 JSON without a byte-order mark")
    return text


def load_object(raw: str | bytes | Mapping[str, Any]) -> dict[str, Any]:
    """The JSON object in ``raw``; a CodecError for anything else."""
    if isinstance(raw, Mapping):
        return dict(raw)
    if len(raw) > MAX_MESSAGE_BYTES:
        raise CodecError("message", f"larger than {MAX_MESSAGE_BYTES} bytes")
    text = _text(raw)
    try:
        obj = json.loads(
            text, parse_constant=_reject_constant, parse_float=Decimal, object_pairs_hook=_object
        )
    except (ValueError, RecursionError) as e:
        raise CodecError("message", f"not valid JSON: {clip(e)}") from None
    if not isinstance(obj, dict):
        raise CodecError("message", f"must be a JSON object, got {type(obj).__name__}")
    return obj
