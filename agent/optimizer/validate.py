"""Checks that turn caller numbers into arrays the model can use, or a typed error naming the field."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from agent.optimizer.errors import InputError
from agent.optimizer.structure import Vec


def series(field: str, value: float | Sequence[float] | Vec, horizon: int) -> Vec:
    """A per-interval series of ``horizon`` finite floats (a scalar is repeated)."""
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise InputError(field, f"not a number or list of numbers ({e})") from e
    if arr.ndim == 0:
        arr = np.full(horizon, float(arr))
    if arr.shape != (horizon,):
        raise InputError(field, f"expected {horizon} values, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError(field, "contains a value that is not finite")
    arr.setflags(write=False)
    return arr


def table(field: str, value: Sequence[Sequence[float]] | Vec, horizon: int, steps: int) -> Vec:
    """A (horizon, steps) table of finite floats, e.g. one ladder step per column."""
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise InputError(field, f"not a table of numbers ({e})") from e
    if arr.ndim == 1 and steps == 1 and arr.shape == (horizon,):
        arr = arr.reshape(horizon, 1)
    if arr.shape != (horizon, steps):
        raise InputError(field, f"expected shape ({horizon}, {steps}), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError(field, "contains a value that is not finite")
    arr.setflags(write=False)
    return arr


def non_negative(field: str, value: float) -> float:
    return at_least(field, value, 0.0)


def positive(field: str, value: float) -> float:
    v = finite(field, value)
    if v <= 0:
        raise InputError(field, f"must be > 0, got {v}")
    return v


def at_least(field: str, value: float, low: float) -> float:
    v = finite(field, value)
    if v < low:
        raise InputError(field, f"must be >= {low}, got {v}")
    return v


def fraction(field: str, value: float) -> float:
    v = finite(field, value)
    if not 0.0 < v <= 1.0:
        raise InputError(field, f"must be in (0, 1], got {v}")
    return v


def finite(field: str, value: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError) as e:
        raise InputError(field, f"not a number: {value!r}") from e
    if not np.isfinite(v):
        raise InputError(field, f"must be finite, got {v}")
    return v


def vector(field: str, value: object) -> Vec:
    """A 1-D array of finite floats of any length (the model checks it against its horizon)."""
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise InputError(field, f"not a list of numbers ({e})") from e
    if arr.ndim != 1:
        raise InputError(field, f"expected a 1-D series, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError(field, "contains a value that is not finite")
    arr.setflags(write=False)
    return arr


def freeze_vectors(obj: object, prefix: str, names: Sequence[str]) -> None:
    """Replace the named fields of a frozen dataclass by validated read-only arrays."""
    for name in names:
        object.__setattr__(obj, name, vector(f"{prefix}.{name}", getattr(obj, name)))


def length(field: str, value: Vec, horizon: int) -> None:
    if value.shape[0] != horizon:
        raise InputError(field, f"expected {horizon} values (the horizon), got {value.shape[0]}")
