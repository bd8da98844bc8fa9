"""The program's events as market prices: the tariff's :class:`MarketPriceSource` under OpenADR.

An interval no event covers is at the contract's base rate (``firm``); an interval an event
covers, wholly or in part, is at the time-weighted mean of the event's price and the base
(``indicative``: the utility may still modify or cancel the event). Where events overlap, the
one of highest OpenADR priority wins, then the newest.

The VTN's prices are kept for ``hold_s`` after it was last heard; after that the base rate
applies until it is heard again, so a VTN that went away never leaves the home on old prices
for ever.

An interval that has **ended** is what the contract bills: its price is the one the events in
force then set, and it is ``firm`` only once the VTN was heard after the interval's end (the
program as it stood is known); before that it stays ``indicative``, so the bill waits rather
than book the base rate for an event it did not hear of. Ended events are kept for
:data:`KEEP_ENDED` for that. Events and the time last heard are saved in the state directory,
so a restart while the VTN is away keeps them too.
"""

from __future__ import annotations

import asyncio
import itertools
from bisect import bisect_left
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from agent.clock import Clock
from agent.market.intervals import Duration, intervals_between
from agent.openadr.errors import ProgramCacheError
from agent.openadr.signals import PriceSpan, ProgramEvent
from agent.runtime.state_file import StateFileError, read_json, write_json
from agent.tariff.sources import MarketPrice, PriceState

CACHE_FILE = "openadr_program.json"
# As long as the settler waits for an interval's firm price (288 quarter hours): ended events
# price the intervals the bill has not settled yet.
KEEP_ENDED = timedelta(days=3)
_VERSION = 1
_US = timedelta(microseconds=1)


class ProgramBook:
    def __init__(
        self,
        base_per_kwh: Decimal,
        currency: str,
        zone: ZoneInfo,
        clock: Clock,
        *,
        step: Duration,
        hold_s: float,
        state_dir: Path | None = None,
    ) -> None:
        self._base = base_per_kwh
        self._currency = currency
        self._zone = zone
        self._clock = clock
        self._step = step
        self._hold = timedelta(seconds=hold_s)
        self._path = state_dir / CACHE_FILE if state_dir is not None else None
        self._events: dict[str, ProgramEvent] = {}
        self.last_heard: datetime | None = None

    @property
    def events(self) -> list[ProgramEvent]:
        return sorted(self._events.values(), key=lambda e: e.rank)

    def heard(self) -> None:
        """The VTN answered: its prices are current again."""
        self.last_heard = self._clock.now()

    def held(self) -> bool:
        """Whether the VTN's prices still apply (heard within the hold time)."""
        return self.last_heard is not None and self._clock.now() - self.last_heard <= self._hold

    def put(self, event: ProgramEvent) -> None:
        self._events[event.event_id] = event

    def drop(self, event_id: str) -> bool:
        return self._events.pop(event_id, None) is not None

    def prune(self) -> None:
        """Forget events whose every span ended more than :data:`KEEP_ENDED` ago."""
        cutoff = self._clock.now() - KEEP_ENDED
        for event in list(self._events.values()):
            if all(span.end <= cutoff for span in event.spans):
                del self._events[event.event_id]

    async def prices(self, start: datetime, end: datetime) -> list[MarketPrice]:
        now = self._clock.now()
        live = _SpanIndex(self.events if self.held() else [])
        past: _SpanIndex | None = None
        out = []
        state: PriceState
        for iv in intervals_between(start, end, self._step, self._zone):
            if iv.end_utc <= now:
                # What was in force then, whatever the VTN's silence since (see the module doc).
                past = past or _SpanIndex(self.events)
                price, _ = self._mean(iv.start_utc, iv.end_utc, past.overlapping(iv.start_utc, iv.end_utc))
                known = self.last_heard is not None and self.last_heard >= iv.end_utc
                state = "firm" if known else "indicative"
            else:
                price, touched = self._mean(
                    iv.start_utc, iv.end_utc, live.overlapping(iv.start_utc, iv.end_utc)
                )
                state = "indicative" if touched else "firm"
            out.append(MarketPrice(iv.start_utc, self._step, price, self._currency, state))
        return out

    def _mean(self, start: datetime, end: datetime, inside: list[PriceSpan]) -> tuple[Decimal, bool]:
        """``inside``: the spans overlapping ``[start, end)``, the winning event's first."""
        if not inside:
            return self._base, False
        cuts = sorted({start, end, *(t for s in inside for t in (s.start, s.end) if start < t < end)})
        total = Decimal(0)
        for a, b in itertools.pairwise(cuts):
            winner = next((s for s in inside if s.start <= a and s.end >= b), None)
            price = winner.applied_to(self._base) if winner is not None else self._base
            total += price * ((b - a) // _US)
        return total / ((end - start) // _US), True

    # -- the saved program ------------------------------------------------------------------------

    async def save(self) -> None:
        if self._path is None:
            return
        doc = {
            "version": _VERSION,
            "last_heard": self.last_heard.isoformat() if self.last_heard else None,
            "events": [_event_doc(e) for e in self._events.values()],
        }
        await asyncio.to_thread(write_json, self._path, doc)

    def load(self) -> None:
        """Read the saved program back; :class:`ProgramCacheError` if it is not ours or damaged."""
        if self._path is None:
            return
        try:
            doc = read_json(self._path)
        except StateFileError as e:
            raise ProgramCacheError(str(e)) from e
        if doc is None:
            return
        try:
            if doc.get("version") != _VERSION:
                raise ValueError(f"version {doc.get('version')!r}, expected {_VERSION}")
            heard = doc["last_heard"]
            events = [_event_from(d) for d in doc["events"]]
        except (KeyError, TypeError, ValueError, ArithmeticError) as e:
            raise ProgramCacheError(f"{self._path.name}: {e}") from e
        self.last_heard = datetime.fromisoformat(heard) if heard else None
        self._events = {e.event_id: e for e in events}


class _SpanIndex:
    """Spans by start, so each interval finds the spans over it by bisection, not by a scan."""

    def __init__(self, ranked: list[ProgramEvent]) -> None:
        # (start, rank of its event, span): sorting by rank again recovers which event wins.
        spans = sorted(((s.start, rank, s) for rank, e in enumerate(ranked) for s in e.spans), key=_by_start)
        self._spans = spans
        self._starts = [start for start, _, _ in spans]
        self._longest = max((s.end - s.start for _, _, s in spans), default=timedelta(0))

    def overlapping(self, start: datetime, end: datetime) -> list[PriceSpan]:
        # No span starting before start - longest can reach start; none starting at end or later.
        lo = bisect_left(self._starts, start - self._longest)
        hi = bisect_left(self._starts, end)
        found = [(rank, s) for _, rank, s in self._spans[lo:hi] if s.end > start]
        return [s for _, s in sorted(found, key=lambda rs: rs[0])]


def _by_start(item: tuple[datetime, int, PriceSpan]) -> tuple[datetime, int]:
    return item[0], item[1]


def _event_doc(event: ProgramEvent) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "modification_number": event.modification_number,
        "priority": event.priority,
        "created": event.created.isoformat(),
        "market_context": event.market_context,
        "status": event.status,
        "spans": [[s.start.isoformat(), s.end.isoformat(), s.kind, str(s.value)] for s in event.spans],
    }


def _event_from(doc: dict[str, Any]) -> ProgramEvent:
    spans = []
    for start, end, kind, value in doc["spans"]:
        if kind not in ("price", "relative", "multiplier"):
            raise ValueError(f"unknown span kind {kind!r}")
        spans.append(PriceSpan(_aware(start), _aware(end), kind, Decimal(value)))
    return ProgramEvent(
        event_id=str(doc["event_id"]),
        modification_number=int(doc["modification_number"]),
        priority=int(doc["priority"]),
        created=_aware(doc["created"]),
        market_context=str(doc["market_context"]),
        status=str(doc["status"]),
        spans=tuple(spans),
    )


def _aware(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"time without a zone: {text!r}")
    return value
