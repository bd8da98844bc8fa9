"""Constrained value types shared by the config models.

Each validator raises ``ValueError`` with a message that says what is allowed; the loader turns
it into a problem carrying file, line and key path.
"""

from __future__ import annotations

import difflib
import os
import re
import zoneinfo
from collections.abc import Mapping
from datetime import time
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr, ValidationInfo

from agent.config.currencies import ISO_4217
from agent.market.intervals import Duration

IDENTIFIER_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

# The rungs of the interval ladder usable as a metering or planning step: the calendar steps are
# too coarse to settle and the telemetry steps (PT1M, PT4S) too fine to trade.
STEP_DURATIONS: tuple[Duration, ...] = (Duration.PT5M, Duration.PT15M, Duration.PT1H)


def suggest(word: str, choices: Any) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.6)
    if not close:
        return ""
    # Ties are broken by string order in difflib; a slip rarely hits the first letter, so prefer it.
    same_start = [c for c in close if c[:1].lower() == word[:1].lower()]
    return f"; did you mean '{(same_start or close)[0]}'?"


def show_value(value: Any) -> str:
    """A short rendering of a user's value for an error message."""
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _step_duration(value: Any) -> Duration:
    allowed = [d.value for d in STEP_DURATIONS]
    if isinstance(value, str) and value in allowed:
        return Duration(value)
    hint = suggest(value.upper(), allowed) if isinstance(value, str) else ""
    raise ValueError(f"must be one of {', '.join(allowed)} (got {show_value(value)}){hint}")


def _identifier(value: str) -> str:
    if not IDENTIFIER_RE.match(value):
        raise ValueError(
            f"must be an identifier: lower-case letter first, then lower-case letters, digits or '_' "
            f"(got {show_value(value)})"
        )
    return value


def _party(value: str) -> str:
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.:@/-]{0,127}$", value):
        raise ValueError(f"must be a party id of letters, digits and _.:@/- (got {show_value(value)})")
    return value


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown IANA time zone {show_value(value)}, e.g. 'Europe/Berlin'{suggest(value, _zones())}"
        ) from None
    return value


def _currency(value: str) -> str:
    if value not in ISO_4217:
        hint = suggest(value.upper(), ISO_4217)
        raise ValueError(
            f"must be an ISO 4217 currency code such as EUR, USD, GBP (got {show_value(value)}){hint}"
        )
    return value


def _clock_time(value: Any) -> Any:
    # "07:30" as text; YAML 1.2 keeps it a string, but a bare 730 or 7.5 is a likely slip.
    if isinstance(value, str):
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value.strip())
        if match:
            return time(int(match[1]), int(match[2]))
    if isinstance(value, time):
        return value
    raise ValueError(f"must be a local clock time 'HH:MM', e.g. '07:30' (got {show_value(value)})")


def _context(info: ValidationInfo) -> Mapping[str, Any]:
    return info.context if isinstance(info.context, Mapping) else {}


def _base_dir(info: ValidationInfo) -> Path:
    return Path(_context(info).get("base_dir", "."))


def _env(info: ValidationInfo) -> Mapping[str, str]:
    env = _context(info).get("env")
    return env if isinstance(env, Mapping) else os.environ


def resolve_path(value: Path, info: ValidationInfo) -> Path:
    """Relative paths are relative to the config file, not to wherever the agent was started."""
    return value if value.is_absolute() else _base_dir(info) / value


def _existing_file(value: Path, info: ValidationInfo) -> Path:
    path = resolve_path(value, info)
    if not path.is_file():
        raise ValueError(f"file not found: {path}")
    return path


def _secret(value: Any, info: ValidationInfo) -> Any:
    """A literal, ``{env: NAME}`` or ``{file: PATH}``; resolved now, so a missing one is a problem
    of this key, and never echoed (no value appears in any message)."""
    if isinstance(value, SecretStr):
        return value
    if isinstance(value, str):
        return SecretStr(value)
    if isinstance(value, Mapping) and len(value) == 1:
        ((kind, ref),) = value.items()
        if kind == "env" and isinstance(ref, str) and ref:
            env = _env(info)
            if ref not in env:
                raise ValueError(f"environment variable {ref} is not set")
            return SecretStr(env[ref])
        if kind == "file" and isinstance(ref, str) and ref:
            path = resolve_path(Path(ref), info)
            try:
                text = path.read_text(encoding="utf-8").rstrip("\r\n")
            except (OSError, UnicodeDecodeError) as e:
                reason = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
                raise ValueError(f"cannot read secret file {path}: {reason}") from None
            if not text:
                raise ValueError(f"secret file {path} is empty")
            return SecretStr(text)
    raise ValueError("must be a string, {env: VARIABLE} or {file: /path/to/file}")


StepDuration = Annotated[Duration, BeforeValidator(_step_duration)]
Identifier = Annotated[str, AfterValidator(_identifier)]
PartyId = Annotated[str, AfterValidator(_party)]
TimeZoneName = Annotated[str, AfterValidator(_timezone)]
Currency = Annotated[str, AfterValidator(_currency)]
ClockTime = Annotated[time, BeforeValidator(_clock_time)]
Secret = Annotated[SecretStr, BeforeValidator(_secret)]
ExistingFile = Annotated[Path, AfterValidator(_existing_file)]
Port = Annotated[int, Field(ge=1, le=65535)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Efficiency = Annotated[float, Field(gt=0.0, le=1.0)]
PositiveKw = Annotated[float, Field(gt=0.0, le=10_000.0)]
NonNegativeKw = Annotated[float, Field(ge=0.0, le=10_000.0)]
Seconds = Annotated[float, Field(gt=0.0, le=86_400.0)]
Celsius = Annotated[float, Field(ge=-50.0, le=120.0)]
PricePerKwh = Annotated[Decimal, Field(ge=Decimal(-100), le=Decimal(100))]
NonEmpty = Annotated[str, Field(min_length=1, max_length=256)]
