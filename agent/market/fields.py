"""Typed field readers for decoded JSON objects: each returns a valid value or raises CodecError
naming the field, so decoders read as a list of fields and nothing unchecked gets through."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar

from agent.market.errors import CodecError, IntervalError
from agent.market.intervals import parse_instant

E = TypeVar("E", bound=StrEnum)

MAX_IDENT_CHARS = 128
# Decimal strings longer than this are refused before parsing: a megabyte of digits is an attack.
MAX_NUMBER_CHARS = 40


def only(obj: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(k for k in obj if k not in allowed)
    if unknown:
        raise CodecError(str(unknown[0]), f"unknown field; allowed: {', '.join(sorted(allowed))}")


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


def decimal(obj: Mapping[str, Any], key: str) -> Decimal:
    """A finite decimal from a decimal string or a JSON number (never a bool)."""
    value = _get(obj, key)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise CodecError(key, f"must be a decimal string or number, got {type(value).__name__}")
    text = repr(value) if isinstance(value, float) else str(value)
    if len(text) > MAX_NUMBER_CHARS:
        raise CodecError(key, f"longer than {MAX_NUMBER_CHARS} characters")
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        raise CodecError(key, f"not a decimal number: {text!r}") from None
    if not number.is_finite():
        raise CodecError(key, "must be finite (no NaN or infinity)")
    return number


def positive(obj: Mapping[str, Any], key: str) -> Decimal:
    number = decimal(obj, key)
    if number <= 0:
        raise CodecError(key, f"must be > 0, got {number}")
    return number


def non_negative(obj: Mapping[str, Any], key: str) -> Decimal:
    number = decimal(obj, key)
    if number < 0:
        raise CodecError(key, f"must be >= 0, got {number}")
    return number


def instant(obj: Mapping[str, Any], key: str) -> datetime:
    try:
        return parse_instant(_get(obj, key), key)
    except IntervalError as e:
        raise CodecError(e.field, e.reason) from None
