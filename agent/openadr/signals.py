"""An OpenADR 2.0b event (as openleadr parses it) → the price spans it sets, or why it cannot.

Only price signals are read, most specific first: ``ELECTRICITY_PRICE``, then ``ENERGY_PRICE``
(signal types ``price``, ``priceRelative``, ``priceMultiplier``), then ``SIMPLE`` levels through
the config's level → price map. Other signals (load dispatch, bids, demand charges) are not
price signals; an event with none is refused (:class:`SignalError`), never read as a price.

An interval's start is its own ``dtstart`` where the VTN sends one, else the end of the previous
interval, the first starting at the event's active period.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from agent.openadr.errors import SignalError

SpanKind = Literal["price", "relative", "multiplier"]
# Most specific first: a price signal says more than a level.
_PRICE_SIGNALS = ("ELECTRICITY_PRICE", "ENERGY_PRICE")
_SIMPLE_SIGNALS = ("SIMPLE", "simple")
_KIND_OF_TYPE: dict[str, SpanKind] = {
    "price": "price",
    "priceRelative": "relative",
    "priceMultiplier": "multiplier",
}
# Statuses after which an event sets no price any more.
ENDED_STATUSES = frozenset({"cancelled", "completed"})


@dataclass(frozen=True, slots=True)
class PriceSpan:
    """From ``start`` (UTC) to ``end``: the market price is ``value`` (``price``), the base plus
    ``value`` (``relative``) or the base times ``value`` (``multiplier``)."""

    start: datetime
    end: datetime
    kind: SpanKind
    value: Decimal

    def applied_to(self, base_per_kwh: Decimal) -> Decimal:
        if self.kind == "price":
            return self.value
        if self.kind == "relative":
            return base_per_kwh + self.value
        return base_per_kwh * self.value


@dataclass(frozen=True, slots=True)
class ProgramEvent:
    event_id: str
    modification_number: int
    # OpenADR: 1 is the highest priority, larger numbers lower; 0 means none (the lowest).
    priority: int
    created: datetime
    market_context: str
    status: str
    spans: tuple[PriceSpan, ...]

    @property
    def rank(self) -> tuple[bool, int, float]:
        """Sorts the event that wins an overlap first: highest priority, then the newest."""
        return (self.priority == 0, self.priority, -self.created.timestamp())


def event_id_of(event: Mapping[str, Any]) -> str:
    return str(_field(_field(event, "event_descriptor"), "event_id"))


def status_of(event: Mapping[str, Any]) -> str:
    return str(_field(event, "event_descriptor").get("event_status", ""))


def read_event(event: Mapping[str, Any], simple_levels: Mapping[int, Decimal], currency: str) -> ProgramEvent:
    """The event's price spans; :class:`SignalError` if it carries no price the agent can follow."""
    descriptor = _field(event, "event_descriptor")
    event_id = str(_field(descriptor, "event_id"))
    signals = _signals(event)
    chosen = _pick_signal(signals, event_id)
    name = str(chosen.get("signal_name"))
    active = _field(event, "active_period")
    start = _utc(_field(active, "dtstart"), event_id, "active_period.dtstart")
    if name in _SIMPLE_SIGNALS:
        spans = _simple_spans(chosen, start, simple_levels, event_id)
    else:
        _check_unit(chosen, currency, event_id)
        kind = _KIND_OF_TYPE.get(str(chosen.get("signal_type")))
        if kind is None:
            raise SignalError(
                f"event {event_id}: {name} signal of type {chosen.get('signal_type')!r} is not a price "
                f"(expected one of {', '.join(_KIND_OF_TYPE)})"
            )
        spans = tuple(
            PriceSpan(s, e, kind, _number(payload, event_id, kind))
            for s, e, payload in _intervals(chosen, start, event_id)
        )
    return ProgramEvent(
        event_id=event_id,
        modification_number=int(descriptor.get("modification_number", 0)),
        priority=int(descriptor.get("priority") or 0),
        created=_utc(descriptor.get("created_date_time", start), event_id, "created_date_time"),
        market_context=str(descriptor.get("market_context", "")),
        status=str(descriptor.get("event_status", "")),
        spans=spans,
    )


def _signals(event: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    raw = event.get("event_signals")
    # openleadr hands a list, or a mapping holding the list when the VTN's XML nests it.
    if isinstance(raw, Mapping):
        raw = raw.get("event_signals")
    if not isinstance(raw, list) or not all(isinstance(s, Mapping) for s in raw):
        raise SignalError(f"event {event_id_of(event)}: no event signals")
    return raw


def _pick_signal(signals: Sequence[Mapping[str, Any]], event_id: str) -> Mapping[str, Any]:
    for wanted in (*_PRICE_SIGNALS, *_SIMPLE_SIGNALS):
        for signal in signals:
            if signal.get("signal_name") == wanted:
                return signal
    names = ", ".join(sorted({str(s.get("signal_name")) for s in signals}))
    raise SignalError(f"event {event_id}: no price signal (has {names or 'none'})")


def _simple_spans(
    signal: Mapping[str, Any], start: datetime, levels: Mapping[int, Decimal], event_id: str
) -> tuple[PriceSpan, ...]:
    spans = []
    for s, e, payload in _intervals(signal, start, event_id):
        level = _number(payload, event_id, "level")
        if level != level.to_integral_value() or int(level) not in range(4):
            raise SignalError(f"event {event_id}: SIMPLE level {payload!r} is not 0, 1, 2 or 3")
        price = levels.get(int(level))
        if price is not None:
            spans.append(PriceSpan(s, e, "price", price))
        elif int(level) == 0:
            spans.append(PriceSpan(s, e, "relative", Decimal(0)))  # normal operation: the base rate
        else:
            raise SignalError(
                f"event {event_id}: SIMPLE level {int(level)} has no price in market.simple_levels"
            )
    return tuple(spans)


def _intervals(
    signal: Mapping[str, Any], start: datetime, event_id: str
) -> list[tuple[datetime, datetime, Any]]:
    raw = signal.get("intervals")
    if not isinstance(raw, list) or not raw:
        raise SignalError(f"event {event_id}: signal {signal.get('signal_name')} has no intervals")
    out = []
    at = start
    for i, interval in enumerate(raw):
        if not isinstance(interval, Mapping):
            raise SignalError(f"event {event_id}: interval {i} is not a mapping")
        if interval.get("dtstart") is not None:
            at = _utc(interval["dtstart"], event_id, f"intervals.{i}.dtstart")
        duration = interval.get("duration")
        if not isinstance(duration, timedelta) or duration <= timedelta(0):
            raise SignalError(f"event {event_id}: interval {i} has no positive duration ({duration!r})")
        out.append((at, at + duration, interval.get("signal_payload")))
        at += duration
    return out


def _check_unit(signal: Mapping[str, Any], currency: str, event_id: str) -> None:
    measurement = signal.get("measurement")
    if not isinstance(measurement, Mapping):
        return  # no itemUnits: the program's prices are per kWh in the contract's currency
    name, unit = measurement.get("name"), measurement.get("unit")
    scale = measurement.get("scale") or "none"
    if name != "currencyPerKWh" or unit != currency or scale != "none":
        raise SignalError(
            f"event {event_id}: prices in {name} {unit} (scale {scale}); the agent reads "
            f"currencyPerKWh in {currency}, scale none"
        )


def _number(payload: Any, event_id: str, what: str) -> Decimal:
    if isinstance(payload, bool) or not isinstance(payload, int | float | str | Decimal):
        raise SignalError(f"event {event_id}: {what} payload {payload!r} is not a number")
    try:
        value = Decimal(str(payload))
    except InvalidOperation:
        raise SignalError(f"event {event_id}: {what} payload {payload!r} is not a number") from None
    if not value.is_finite():
        raise SignalError(f"event {event_id}: {what} payload {payload!r} is not finite")
    if what == "multiplier" and value < 0:
        raise SignalError(f"event {event_id}: a price multiplier of {value} is below zero")
    return value


def _utc(value: Any, event_id: str, what: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise SignalError(f"event {event_id}: {what} is not a time with a zone ({value!r})")
    return value.astimezone(UTC)


def _field(obj: Any, name: str) -> Any:
    if not isinstance(obj, Mapping) or name not in obj:
        raise SignalError(f"event without {name}")
    return obj[name]
