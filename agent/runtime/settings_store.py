"""The householder's settings (pause, EV departure/target/mode/current, comfort, boost, hold),
kept in ``<state_dir>/settings.json`` so a restart, an update or a power cut does not undo them.

The control that changed them (page or Home Assistant) has already checked them; the file is
checked again on load, field by field, because it may have been edited or damaged. A file that
is damaged as a whole, or holds one bad field, is reported (the log, and ``problem`` for the
page), moved aside as ``settings.json.bad`` for inspection, and the agent starts from its
configured defaults: a settings file never stops the agent. A departure or boost end that has
passed while the agent was down is restored as "none".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any

from agent.runtime.state import (
    COMFORT_BAND_RANGE_C,
    COMFORT_TARGET_RANGE_C,
    EV_CURRENT_LIMIT_RANGE_A,
    EV_MODES,
    Overrides,
)
from agent.runtime.state_file import StateFileError, read_json, write_json

log = logging.getLogger(__name__)

FILE_NAME = "settings.json"
FORMAT = 1


def encode(o: Overrides) -> dict[str, Any]:
    return {"format": FORMAT, "settings": o.to_json()}


def _number(doc: dict[str, Any], key: str, bounds: tuple[float, float], path: Path) -> float | None:
    value = doc.get(key)
    if value is None:
        return None
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise StateFileError(path, f"settings.{key}: must be a number or null (got {value!r:.40})")
    if not low <= value <= high:
        raise StateFileError(path, f"settings.{key}: must be within {low:g}..{high:g} (got {value:g})")
    return float(value)


def _flag(doc: dict[str, Any], key: str, path: Path) -> bool:
    value = doc.get(key, False)
    if not isinstance(value, bool):
        raise StateFileError(path, f"settings.{key}: must be true or false (got {value!r:.40})")
    return value


def _instant(doc: dict[str, Any], key: str, now: datetime, path: Path) -> datetime | None:
    value = doc.get(key)
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise StateFileError(
            path, f"settings.{key}: must be an ISO 8601 time with offset (got {value!r:.40})"
        )
    return when if when > now else None  # passed while the agent was down


def decode(doc: dict[str, Any], now: datetime, path: Path) -> Overrides:
    """The settings in ``doc``; raises :class:`StateFileError` naming the first bad field."""
    if doc.get("format") != FORMAT:
        raise StateFileError(path, f"format: must be {FORMAT} (got {doc.get('format')!r:.40})")
    s = doc.get("settings")
    if not isinstance(s, dict):
        raise StateFileError(path, "settings: must be a JSON object")
    known = {f.name for f in fields(Overrides)}
    unknown = sorted(set(s) - known)
    if unknown:
        raise StateFileError(path, f"settings.{unknown[0][:40]}: not a setting hems keeps")
    mode = s.get("ev_mode", "smart")
    if mode not in EV_MODES:
        raise StateFileError(
            path, f"settings.ev_mode: must be one of {', '.join(EV_MODES)} (got {mode!r:.40})"
        )
    return Overrides(
        paused=_flag(s, "paused", path),
        ev_departure=_instant(s, "ev_departure", now, path),
        ev_target_soc=_number(s, "ev_target_soc", (0.0, 1.0), path),
        comfort_target_c=_number(s, "comfort_target_c", COMFORT_TARGET_RANGE_C, path),
        comfort_band_c=_number(s, "comfort_band_c", COMFORT_BAND_RANGE_C, path),
        water_heater_boost_until=_instant(s, "water_heater_boost_until", now, path),
        water_heater_hold=_flag(s, "water_heater_hold", path),
        ev_mode=mode,
        ev_current_limit_a=_number(s, "ev_current_limit_a", EV_CURRENT_LIMIT_RANGE_A, path),
    )


class SettingsStore:
    """Loads the settings once at start and saves them after every change, newest last."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / FILE_NAME
        self.problem: str | None = None  # why the saved settings were not used, for the page
        self._lock = asyncio.Lock()
        self._pending: set[asyncio.Task[None]] = set()

    def load(self, now: datetime) -> Overrides:
        """The saved settings, or the defaults (reported) when the file is missing or bad."""
        try:
            doc = read_json(self.path)
            if doc is None:
                return Overrides()
            restored = decode(doc, now, self.path)
        except StateFileError as e:
            self.problem = str(e)
            log.error("saved settings ignored, starting from the configured defaults: %s", e)
            with contextlib.suppress(OSError):
                os.replace(self.path, self.path.with_name(FILE_NAME + ".bad"))
            return Overrides()
        log.info("householder settings restored from %s", self.path.name)
        return restored

    async def save(self, o: Overrides) -> None:
        doc = encode(o)
        async with self._lock:  # in order: the last change is the one left on disk
            try:
                await asyncio.to_thread(write_json, self.path, doc)
            except OSError as e:
                self.problem = f"{self.path.name}: cannot be written ({e.strerror or e})"
                log.error("householder settings not saved: %s", self.problem)
                return
        self.problem = None

    def save_soon(self, o: Overrides) -> None:
        """Save from a synchronous callback (the cycle's override watchers)."""
        task = asyncio.get_running_loop().create_task(self.save(o))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def flush(self, timeout_s: float = 5.0) -> None:
        """Wait (bounded) for saves still under way: called on stop."""
        if self._pending:
            await asyncio.wait(list(self._pending), timeout=timeout_s)
