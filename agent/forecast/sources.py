"""Where outdoor temperature, hot-water draws and weather come from: a CSV file or an MQTT topic.

A source yields either a :class:`~agent.forecast.timeseries.TimeSeries` (a forecast) or an
:class:`Observation` (the latest measured value, which the caller blends into a profile). It
raises :class:`~agent.forecast.errors.SourceError` (unreadable, malformed) or
:class:`~agent.forecast.errors.StaleSource` (too old), each naming the config key, and never
returns a placeholder.

The MQTT source keeps its latest payload behind the drivers' staleness :class:`Monitor`, the
same rule as every device value: an old number is an error, not a number.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from agent.clock import Clock
from agent.forecast.errors import SourceError, StaleSource
from agent.forecast.timeseries import TimeSeries, parse_csv, parse_payload
from drivers.base.reading import Monitor
from drivers.errors import DriverError, StaleValue
from drivers.mqtt.client import Message, MqttClient, Subscription

_log = logging.getLogger("agent.forecast")

# A SUBACK from a broker on the LAN takes milliseconds; if it takes this long the broker is gone
# and the source simply stays stale until paho re-subscribes on reconnect.
SUBSCRIBE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Observation:
    value: float
    at: datetime


SourceData = TimeSeries | Observation


class Source(Protocol):
    field: str  # config key path, named in every error
    description: str

    def read(self, now: datetime) -> SourceData: ...


class CsvSource:
    """A CSV file (``time`` + one value column), re-read whenever its modification time changes.

    ``max_age_s``: the file is stale once not rewritten for that long (a forecast someone keeps
    updating); None for a static file such as a typical-year profile.
    """

    def __init__(self, path: Path, column: str, *, field: str, max_age_s: float | None = None) -> None:
        self.path = path
        self.column = column
        self.field = field
        self.max_age_s = max_age_s
        self.description = f"csv {path.name}:{column}"
        self._cached: tuple[int, TimeSeries] | None = None

    def read(self, now: datetime) -> TimeSeries:
        try:
            stat = os.stat(self.path)
        except OSError as e:
            raise SourceError(f"cannot read {self.path}: {e.strerror or e}", field=self.field) from e
        modified = datetime.fromtimestamp(stat.st_mtime, UTC)
        if self.max_age_s is not None and (now - modified).total_seconds() > self.max_age_s:
            raise StaleSource(
                f"{self.path} last written {modified.isoformat()}, older than {self.max_age_s:g} s",
                field=self.field,
            )
        if self._cached is not None and self._cached[0] == stat.st_mtime_ns:
            return self._cached[1]
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise SourceError(f"cannot read {self.path}: {e}", field=self.field) from e
        series = parse_csv(text, self.column, field=self.field, issued_at=modified, name=self.path.name)
        self._cached = (stat.st_mtime_ns, series)
        return series


class MqttSource:
    """The latest payload on one topic: a number (an observation) or a JSON forecast series."""

    def __init__(self, client: MqttClient, topic: str, clock: Clock, *, field: str, max_age_s: float) -> None:
        self.client = client
        self.topic = topic
        self.field = field
        self.description = f"mqtt {client.name}:{topic}"
        self._monitor: Monitor[SourceData] = Monitor(
            clock, name=f"{field} ({topic})", unit="", max_age_s=max_age_s
        )
        self._clock = clock
        self._sub: Subscription | None = None
        self.bad_payloads = 0
        self.last_error: SourceError | None = None

    async def start(self) -> None:
        """Subscribe; a broker that is down now is not an error (paho subscribes on reconnect)."""
        if self._sub is not None:
            return
        try:
            async with asyncio.timeout(SUBSCRIBE_TIMEOUT_S):
                self._sub = await self.client.subscribe(self.topic, self._on_message, qos=1)
        except (DriverError, TimeoutError) as e:
            _log.warning("%s: cannot subscribe to %s yet: %s", self.field, self.topic, e)

    def stop(self) -> None:
        if self._sub is not None:
            self._sub.close()
            self._sub = None

    def _on_message(self, msg: Message) -> None:
        now = self._clock.now()
        try:
            parsed = parse_payload(msg.payload, field=self.field, issued_at=now)
        except SourceError as e:
            # Keep the previous value (it ages out on its own); log the first of a run of bad ones.
            self.bad_payloads += 1
            if self.last_error is None:
                _log.warning("%s", e)
            self.last_error = e
            return
        self.last_error = None
        data: SourceData = parsed if isinstance(parsed, TimeSeries) else Observation(parsed, now)
        self._monitor.set(data, self.description)

    def read(self, now: datetime) -> SourceData:
        try:
            return self._monitor.get().value
        except StaleValue as e:
            raise StaleSource(str(e), field=self.field) from e
