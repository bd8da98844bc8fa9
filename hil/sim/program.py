"""A utility's OpenADR price program replayed from the scenario's recorded prices.

There is no recorded series of OpenADR events, so the program is made from the recorded
day-ahead prices by a stated rule (``simulate.contract.events``): on every local day the
``hours`` hours of highest recorded price become one critical-peak event at SIMPLE ``level``,
announced at ``publish_at`` on the day before (events of the run's first day at its start). Each
event is the mapping openleadr hands the VEN's ``on_event`` (as ``tests/openadr`` build them):
one SIMPLE signal of hourly intervals from the first chosen hour to the last, level 0 (the base
rate) in the hours between.

:func:`program_price` is the program's market price at an instant by the same rule, written
apart from the agent's book: what the baseline and the reference are billed at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from agent.config.openadr import OpenAdrMarket

if TYPE_CHECKING:
    from hil.sim.scenario import Scenario

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class EventRule:
    hours: int  # the day's most expensive hours that become the event
    level: int  # their SIMPLE level (1 moderate, 2 high, 3 special)


@dataclass(frozen=True)
class ScheduledEvent:
    announce_at: datetime
    hours: tuple[datetime, ...]  # UTC starts of the event's hours at ``level``
    event: dict[str, Any]


def _day_hours(day: date, zone: ZoneInfo) -> list[datetime]:
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    out = []
    at = start
    while at < end:
        out.append(at)
        at += HOUR
    return out


def peak_hours(day: date, zone: ZoneInfo, price_at: Callable[[datetime], Decimal], n: int) -> list[datetime]:
    """The ``n`` hours of ``day`` with the highest price (the earlier of equal ones), in order."""
    ranked = sorted(_day_hours(day, zone), key=lambda h: (-price_at(h), h))
    return sorted(ranked[:n])


def _event(
    day: date, hours: list[datetime], rule: EventRule, market: OpenAdrMarket, created: datetime
) -> dict[str, Any]:
    first, last = hours[0], hours[-1] + HOUR
    chosen = set(hours)
    intervals = []
    at, uid = first, 0
    while at < last:
        level = rule.level if at in chosen else 0
        intervals.append({"dtstart": at, "duration": HOUR, "uid": uid, "signal_payload": float(level)})
        at, uid = at + HOUR, uid + 1
    return {
        "event_descriptor": {
            "event_id": f"cpp-{day.isoformat()}",
            "modification_number": 0,
            "priority": 1,
            "created_date_time": created,
            "market_context": market.market_context or "",
            "event_status": "far",
        },
        "active_period": {"dtstart": first, "duration": last - first},
        "event_signals": [{"signal_name": "SIMPLE", "signal_type": "level", "intervals": intervals}],
        "response_required": "always",
    }


def schedule(
    rule: EventRule,
    market: OpenAdrMarket,
    price_at: Callable[[datetime], Decimal],
    *,
    zone: ZoneInfo,
    start: datetime,
    days: float,
    publish_at: time,
) -> list[ScheduledEvent]:
    """The program's events over the run (and its next day), in the order they are announced."""
    first_day = start.astimezone(zone).date()
    last_day = (start + timedelta(days=days)).astimezone(zone).date() + timedelta(days=1)
    out = []
    day = first_day
    while day <= last_day:
        hours = peak_hours(day, zone, price_at, rule.hours)
        announce = datetime.combine(day - timedelta(days=1), publish_at, tzinfo=zone).astimezone(UTC)
        announce = max(announce, start.astimezone(UTC))
        out.append(ScheduledEvent(announce, tuple(hours), _event(day, hours, rule, market, announce)))
        day += timedelta(days=1)
    return out


def program_price(
    events: list[ScheduledEvent], rule: EventRule, market: OpenAdrMarket
) -> Callable[[datetime], Decimal]:
    """The program's market price at an instant: the level's price in an event hour, else the base."""
    event_hours = {h for e in events for h in e.hours}
    level_price = market.simple_levels.get(rule.level, market.price_per_kwh)

    def at(instant: datetime) -> Decimal:
        utc = instant.astimezone(UTC)
        hour = utc.replace(minute=0, second=0, microsecond=0)
        return level_price if hour in event_hours else market.price_per_kwh

    return at


def contract_market(
    scenario: Scenario, zone: ZoneInfo
) -> tuple[Callable[[datetime], Decimal], list[ScheduledEvent]]:
    """The market price of a scenario's contract by instant (the recorded day-ahead price, or an
    OpenADR program's by its events), and the program's events (none for other contracts)."""
    # hil.sim.tariff reads scenarios, whose contracts name this module's rule: imported here.
    from hil.sim.tariff import home_prices

    contract = scenario.contract
    recorded = home_prices(scenario.home, scenario.start, run_seed=scenario.seed)
    if contract is None or contract.program is None or contract.events is None:
        return recorded.at, []
    events = schedule(
        contract.events,
        contract.program,
        recorded.at,
        zone=zone,
        start=scenario.start,
        days=scenario.days,
        publish_at=contract.publish_at,
    )
    return program_price(events, contract.events, contract.program), events
