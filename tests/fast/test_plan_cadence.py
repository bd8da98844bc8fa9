"""How often the agent re-plans on virtual time: once per metering interval for the retailer's
burst around each boundary, at once for a tender that cannot wait."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from agent.link.topics import Inbound
from agent.market import codec
from agent.market.intervals import Duration, Interval, containing
from agent.market.records import Product, Side, Tender
from agent.runtime.app import RunningAgent
from hil.fast.run import run_fast
from hil.fast.world import FastWorld
from hil.sim.world import METERING
from tests.fast.conftest import scenario

CYCLE_S = 60.0  # the test scenario's cycle (tests/fast/conftest.py)


def _plans_by_interval(samples: list[tuple[datetime, int]], tz: object) -> dict[Interval, int]:
    """Plans made while each metering interval was current (from the per-cycle counts)."""
    out: dict[Interval, int] = {}
    for (_, before), (at, after) in itertools.pairwise(samples):
        key = containing(at, METERING, tz)  # type: ignore[arg-type]
        out[key] = out.get(key, 0) + after - before
    return out


def test_the_retailers_burst_around_each_boundary_gives_one_plan_per_metering_interval(
    tmp_path: Path,
) -> None:
    # Guards the cadence of three plans per quarter hour: the spot price a minute before the
    # boundary, the new interval, and the near ladder a few seconds after it had each re-planned.
    samples: list[tuple[datetime, int]] = []
    reasons: set[str] = set()
    zone: list[object] = []

    def probe(agent: RunningAgent, world: FastWorld) -> None:
        samples.append((world.clock.now(), agent.cycle.planning.plans))
        reasons.add(agent.state.timing.last_plan_reason)
        zone[:] = [agent.config.zone]

    result, _ = run_fast(scenario(3.0), tmp_path, probe=probe)
    per_interval = _plans_by_interval(samples, zone[0])
    # The first interval holds the first plan; every whole interval after it exactly one.
    later = [n for interval, n in sorted(per_interval.items()) if interval.start_utc > samples[0][0]]
    later = later[:-1]  # the last one is cut short by the end of the run
    assert len(later) >= 10
    assert later == [1] * len(later)
    assert "new metering interval" in reasons
    # The near ladders, published just after each boundary and closing before the next one,
    # were still traded: the one plan per interval comes after them.
    assert result.kpis.transactions > 0


def test_a_cycle_as_long_as_the_metering_interval_plans_each_interval_and_dispatches_it_at_once(
    tmp_path: Path,
) -> None:
    # A fifteen-minute cycle runs at the boundaries, before a new interval's plan is due: it
    # wakes for that plan, and again when the plan is made, so each interval is dispatched on
    # its own plan from its first minute (not the next cycle's, a quarter of an hour late).
    cycles: list[tuple[datetime, datetime | None]] = []  # (cycle end, when its plan was made)

    installed: list[bool] = []

    def probe(agent: RunningAgent, world: FastWorld) -> None:
        if installed:
            return
        installed.append(True)
        before = agent.cycle._on_cycle

        def record() -> None:
            current = agent.cycle.planning.current
            cycles.append((world.clock.now(), None if current is None else current.made_at))
            if before is not None:
                before()

        agent.cycle._on_cycle = record

    sc = scenario(3.0, cycle_s=METERING.nominal.total_seconds())
    run_fast(sc, tmp_path, probe=probe)
    first = containing(cycles[0][0], METERING, ZoneInfo(sc.home.timezone))
    interval = first.next()
    checked = 0
    while interval.end_utc <= cycles[-1][0]:
        early = [
            made
            for at, made in cycles
            if interval.start_utc <= at < interval.start_utc + timedelta(minutes=1) and made is not None
        ]
        assert any(interval.start_utc <= made for made in early), (interval, early)
        interval = interval.next()
        checked += 1
    assert checked >= 10


def _tender(world: FastWorld, now: datetime, *, interval: Interval, expires: datetime, tag: str) -> Tender:
    s = world.retailer.settings
    price = world.retailer.rules.sell_price(world.retailer.desk.wholesale.at(interval.start_utc), 0)
    return Tender(
        id=f"r-test-{tag}",
        party=s.party,
        counterparty=s.home,
        side=Side.SELL,
        product=Product.ENERGY,
        interval=interval,
        quantity_kw=Decimal("1"),
        price_per_kwh=price,
        currency=s.currency,
        expires=expires,
        actionable=True,
    )


Sample = tuple[datetime, int, str]  # at a cycle: the time, plans so far, the last plan's reason


def _run_with_tender_mid_interval(tmp_path: Path, *, urgent: bool) -> list[Sample]:
    """Publish one retailer tender seven minutes into an interval an hour into the run; the
    samples from the publication to six minutes after it."""
    samples: list[Sample] = []
    published: list[asyncio.Task[None]] = []
    published_at: list[datetime] = []

    def probe(agent: RunningAgent, world: FastWorld) -> None:
        now = world.clock.now()
        samples.append((now, agent.cycle.planning.plans, agent.state.timing.last_plan_reason))
        current = containing(now, METERING, agent.config.zone)
        at = current.start_utc + timedelta(minutes=7)
        if published or now < samples[0][0] + timedelta(hours=1) or not at <= now < at + timedelta(minutes=1):
            return
        published_at.append(now)
        if urgent:  # the next interval, closing five minutes from now: it cannot wait a quarter
            t = _tender(world, now, interval=current.next(), expires=now + timedelta(minutes=5), tag="soon")
        else:  # an hour tomorrow, open until then
            hour = containing(now + timedelta(days=1), Duration.PT1H, agent.config.zone)
            t = _tender(world, now, interval=hour, expires=hour.start_utc, tag="later")
        topic = world.retailer.topics.to_home(Inbound.TENDER)
        payload = codec.dumps(codec.encode_tender(t))
        published.append(
            asyncio.get_running_loop().create_task(world.retailer.client.publish(topic, payload, qos=1))
        )

    run_fast(scenario(1.5), tmp_path, probe=probe)
    assert published and published[0].done()
    (at,) = published_at
    return [s for s in samples if at <= s[0] <= at + timedelta(minutes=6)]


def test_a_tender_that_closes_before_the_next_scheduled_plan_is_planned_at_once(tmp_path: Path) -> None:
    window = _run_with_tender_mid_interval(tmp_path, urgent=True)
    counts = [n for _, n, _ in window]
    # Within two cycles of the publication (before the next interval), one more plan, for it.
    assert counts[2] == counts[0] + 1
    assert window[2][2] == "new tender closes before the next plan"


def test_a_tender_for_tomorrow_waits_for_the_next_scheduled_plan(tmp_path: Path) -> None:
    window = _run_with_tender_mid_interval(tmp_path, urgent=False)
    counts = [n for _, n, _ in window]
    # The rest of the interval (until minute 13 of 15) passes without a plan.
    assert counts == [counts[0]] * len(counts)
