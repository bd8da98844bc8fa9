"""Typed field readers for decoded JSON objects: each returns a valid value or raises CodecError
naming the field, so decoders read as a list of fields and nothing unchecked gets through."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar

from agent.logsafe import clip
from agent.market.errors import CodecError, IntervalError
from agent.market.intervals import parse_instant

E = TypeVar("E", bound=StrEnum)

MAX_IDENT_CHARS = 128
# Decimal strings longer than this are refused before parsing: a megabyte of digits is an attack.
MAX_NUMBER_CHARS = 40
# An unknown key is named in the error report this far (escaped), never in full.
MAX_KEY_CHARS = 64
# JSON's number grammar in ASCII only: Python's Decimal also takes "1_000", "١٢٣" and spaces.
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?", re.ASCII)
# Bounds on every decimal the codec reads, so arithmetic on them stays exact in Decimal's
# default 28 digits and never overflows ("1e999999999" kW would pass a finiteness check).
_NOT_FINITE = frozenset({"nan", "snan", "inf", "infinity"})
MAX_DECIMAL_PLACES = 12
MAX_QUANTITY_KW = Decimal(100_000)  # 100 MW: far beyond any home, still bounded
MAX_ENERGY_KWH = Decimal(10) ** 9
MAX_PRICE_PER_KWH = Decimal(10_000)


def key_path(key: object) -> str:
    """A key as it may be named in an error, a log line or a counter: escaped and bounded."""
    return clip(key, MAX_KEY_CHARS)


def only(obj: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(str(k) for k in obj if k not in allowed)
    if unknown:
        more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
        raise CodecError(key_path(unknown[0]), f"unknown field{more}; allowed: {', '.join(sorted(allowed))}")


def _get(obj: Mapping[str, Any], key: str) -> Any:
    if key not in obj or obj[key] is None:
        raise CodecError(key, "missing")
    return obj[key]


def string(obj: Mapping[str, Any], key: str) -> str:
    value = _get(obj, key)
    if not isinstance(value, str):
        raise CodecError(key, f"must be a string, got {type(value).__name__}")
    if not value.strip():
        raise CodecError(key, "must not be empty")
    return value


def ident(obj: Mapping[str, Any], key: str) -> str:
    """An identifier: 1..128 printable characters without spaces."""
    value = string(obj, key)
    if len(value) > MAX_IDENT_CHARS:
        raise CodecError(key, f"longer than {MAX_IDENT_CHARS} characters")
    if not value.isprintable() or any(c.isspace() for c in value):
        raise CodecError(key, "must be printable characters without spaces")
    return value


def boolean(obj: Mapping[str, Any], key: str) -> bool:
    value = _get(obj, key)
    if not isinstance(value, bool):
        raise CodecError(key, f"must be true or false, got {type(value).__name__}")
    return value


def enum(obj: Mapping[str, Any], key: str, kind: type[E]) -> E:
    value = string(obj, key)
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise CodecError(key, f"{value!r} is not one of: {allowed}") from None


def decimal(obj: Mapping[str, Any], key: str, limit: Decimal = MAX_PRICE_PER_KWH) -> Decimal:
    """A finite decimal within ``±limit`` with at most 12 places, from a decimal string in JSON's
    number grammar or a JSON number (never a bool)."""
    value = _get(obj, key)
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise CodecError(key, f"must be a decimal string or number, got {type(value).__name__}")
    text = repr(value) if isinstance(value, float) else str(value)
    if len(text) > MAX_NUMBER_CHARS:
        raise CodecError(key, f"longer than {MAX_NUMBER_CHARS} characters")
    if isinstance(value, str) and _NUMBER.fullmatch(value) is None:
        if value.strip().lstrip("+-").lower() in _NOT_FINITE:
            raise CodecError(key, "must be finite (no NaN or infinity)")
        raise CodecError(key, f"not a decimal number in ASCII digits: {clip(text)!r}")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise CodecError(key, f"not a decimal number: {clip(text)!r}") from None
    if not number.is_finite():
        raise CodecError(key, "must be finite (no NaN or infinity)")
    if not number:
        return Decimal(0)  # "0e999999999" is zero, without the exponent that would overflow later
    if number.adjusted() > limit.adjusted() or abs(number) > limit:
        raise CodecError(key, f"beyond the bound of ±{limit}")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_DECIMAL_PLACES:
        raise CodecError(key, f"more than {MAX_DECIMAL_PLACES} decimal places")
    return number


def positive(obj: Mapping[str, Any], key: str, limit: Decimal = MAX_QUANTITY_KW) -> Decimal:
    number = decimal(obj, key, limit)
    if number <= 0:
        raise CodecError(key, f"must be > 0, got {number}")
    return number


def non_negative(obj: Mapping[str, Any], key: str, limit: Decimal = MAX_ENERGY_KWH) -> Decimal:
    number = decimal(obj, key, limit)
    if number < 0:
        raise CodecError(key, f"must be >= 0, got {number}")
    return number


def instant(obj: Mapping[str, Any], key: str) -> datetime:
    try:
        return parse_instant(_get(obj, key), key)
    except IntervalError as e:
        raise CodecError(e.field, e.reason) from None
