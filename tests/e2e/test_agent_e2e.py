"""End to end: the running agent against the rig and the retailer simulator.

Real parts on loopback, all on one accelerated clock: Mosquitto (with persistence, as in
production), the rig (pymodbus SunSpec meter and hybrid inverter with battery, MQTT thermostat,
water heater and EV charger), the retailer simulator, and the agent built and served by
``agent.runtime.app`` exactly as ``hems run`` does. Faults in the same run: a broker restart, a
malformed tender, the meter gone for two metering intervals.

The bill is checked two ways. Exactly: the ledger's bill equals the retailer simulator's own bill
(its transactions, its spot prices, the deliveries it received). Against the plant: each settled
interval's metered energy is recomputed from the rig plant's own meter counters (integrated
physics, not the Modbus registers) at the instants of the readings that bound it, and the bill
from those numbers agrees to the cent.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import math
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from agent.config import load_config
from agent.ledger import Ledger
from agent.market.records import Product
from agent.market.settlement import FLAG_ESTIMATED, Settlement
from agent.runtime import app
from hil.plant import SUMMER
from hil.plant.data import DATA_DIR
from hil.retailer import BadTender, HomeTenderState, RetailerSettings, RetailerSim, Wholesale
from hil.rig import Rig
from hil.rig_settings import RigSettings
from hil.sim.clock import HeldClock
from tests.support.mosquitto import persistent_broker

WEEK = date(2015, 6, 15)  # the shipped June week

BERLIN = ZoneInfo("Europe/Berlin")
# A June noon: PV, battery and EV all have something to do.
START = datetime(2026, 6, 15, 11, 53, 30, tzinfo=BERLIN)
SPEED = 60.0
CYCLE_S = 5.0
_SECONDS_PER_HOUR = Decimal(3600)


def at(hh: int, mm: int, ss: int = 0) -> datetime:
    return START.replace(hour=hh, minute=mm, second=ss)


@dataclass
class CounterLog:
    """The plant meter's counters after every integration step (linear in between: one power per step)."""

    times_s: list[float]
    import_kwh: list[float]
    export_kwh: list[float]

    def value(self, instant: datetime) -> tuple[float, float]:
        t = instant.timestamp()
        i = bisect.bisect_left(self.times_s, t)
        if i <= 0 or i >= len(self.times_s):
            raise AssertionError(f"no plant counters around {instant}")
        t0, t1 = self.times_s[i - 1], self.times_s[i]
        share = (t - t0) / (t1 - t0)
        imp = self.import_kwh[i - 1] + (self.import_kwh[i] - self.import_kwh[i - 1]) * share
        exp = self.export_kwh[i - 1] + (self.export_kwh[i] - self.export_kwh[i - 1]) * share
        return imp, exp


async def sim_until(clock: HeldClock, instant: datetime) -> None:
    left_s = (instant - clock.now()).total_seconds()
    if left_s > 0:
        await asyncio.sleep(left_s / SPEED)


async def wait_for(what: str, predicate: Callable[[], bool], timeout_s: float = 20.0) -> None:
    try:
        async with asyncio.timeout(timeout_s):
            while not predicate():  # noqa: ASYNC110 (state lives in threads and other tasks)
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


def plant_energy(log: CounterLog, s: Settlement) -> tuple[Decimal, Decimal]:
    (i0, e0), (i1, e1) = log.value(s.start_reading_ts), log.value(s.end_reading_ts)
    return Decimal(repr(i1 - i0)), Decimal(repr(e1 - e0))


async def test_agent_trades_dispatches_settles_and_survives_faults(tmp_path: Path) -> None:
    broker = persistent_broker(tmp_path / "broker")
    broker.start()
    # Time holds at START while the rig, the retailer and the agent start and make a first plan:
    # how long that takes on a loaded machine must not eat the first intervals the test checks.
    clock = HeldClock(START, speed=SPEED)
    rig = Rig(
        SUMMER,
        clock=clock,
        settings=RigSettings(broker_host=broker.host, broker_port=broker.port, tick_s=1.0, max_step_s=5.0),
    )
    counters = CounterLog([], [], [])
    battery_kw: list[float] = []

    def on_step(step: object, _inputs: object) -> None:
        counters.times_s.append(rig.plant.now.timestamp())
        counters.import_kwh.append(rig.plant.meter.import_kwh)
        counters.export_kwh.append(rig.plant.meter.export_kwh)
        assert rig.plant.last is not None
        battery_kw.append(rig.plant.last.powers_kw["battery"])

    rig.on_step.append(on_step)
    await rig.start()
    doc = rig.agent_config(state_dir=tmp_path / "state")
    doc["metering_interval"] = "PT5M"
    doc["planner"] = {"horizon_h": 6, "step": "PT5M"}
    doc["market"] = {"commitment_window_h": 4, "hedge_ratio": 0.8, "max_tender_kw": 10}
    doc["retailer"] = {"broker": "rig", "topic_prefix": "tem/retailer"}
    (tmp_path / "hems.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    config = load_config(tmp_path / "hems.yaml")
    home = config.party_id
    sim = RetailerSim(
        RetailerSettings(
            host=broker.host, port=broker.port, home=home, tz=config.zone, actionable_h=2, indicative_h=2
        ),
        Wholesale.from_csv(DATA_DIR / "prices_de_2015.csv", config.zone, START.date(), first_day=WEEK),
        clock,
    )
    await sim.start()
    agent = await app.build(config, clock, cycle_s=CYCLE_S)
    stop = asyncio.Event()
    serving = asyncio.create_task(app.serve(agent, stop))
    dispatch_samples: list[tuple[float, float, float, float]] = []
    meter_samples: list[tuple[float, float, bool]] = []  # (plan's grid kW, plant's, battery at a limit)
    try:
        # -- trading: the agent receives tenders, plans, accepts and posts ------------------------
        await wait_for("a first plan", lambda: agent.cycle.planning.current is not None)
        clock.release(time.monotonic())

        async def sample_dispatch(until: datetime) -> None:
            # What the inverter was told against what the current plan says (after a cycle to act).
            while clock.now() < until:
                await asyncio.sleep(2 * CYCLE_S / SPEED)
                record = agent.cycle.planning.current
                idx = record.index_at(clock.now()) if record is not None else None
                battery = agent.state.dispatch.get("devices", {}).get("battery", {})
                if record is None or idx is None or battery.get("mode") != "optimised":
                    continue
                # SunSpec 124: mode 1 charges at InWRte, 2 discharges at OutWRte, 3 holds within
                # both (in % of WChaMax); the plant's battery must follow what was written.
                c = rig.controls
                in_kw, out_kw = (pct / 100.0 * c.w_cha_max_w / 1000.0 for pct in (c.in_pct, c.out_pct))
                told = {1: (in_kw, in_kw), 2: (-out_kw, -out_kw), 3: (-out_kw, in_kw)}.get(c.stor_mode)
                assert rig.plant.last is not None
                if told is not None:
                    planned = float(record.plan.series["battery_kw"][idx])
                    if "meter" in battery.get("limited_by", ()):
                        # Following the plan's meter flow (an unplanned export went into the
                        # battery, an unplanned import came from it): the meter, not the
                        # plan's battery power, is what to compare (the plan has no PV here).
                        plan_grid_kw = float(record.plan.series["grid_kw"][idx])
                        at_limit = (
                            not -SUMMER.battery_discharge_kw + 0.1 < told[0] < SUMMER.battery_charge_kw - 0.1
                        )
                        meter_samples.append((plan_grid_kw, rig.plant.last.grid_kw, at_limit))
                        planned = float("nan")
                    dispatch_samples.append((planned, *told, rig.plant.last.powers_kw["battery"]))

        sampler = asyncio.create_task(sample_dispatch(at(12, 11)))
        # Trades follow the plans, which follow the ladders and the house: some starts take a
        # few re-plans (seconds of wall time each) before the first is worth making.
        await wait_for("an acceptance confirmed", lambda: bool(sim.book.by_acceptance), timeout_s=60.0)

        # -- fault 1: the broker restarts mid-interval --------------------------------------------
        await sim_until(clock, at(12, 2))
        await asyncio.to_thread(broker.restart, 1.0)
        # -- fault 2: malformed tenders ---------------------------------------------------------
        await sim_until(clock, at(12, 6))
        # (when the trades above took long, 12:06 may follow the restart at once)
        await wait_for("the retailer back on the broker", lambda: sim.client.connected)
        faults = [await sim.publish_bad(kind) for kind in (BadTender.MISALIGNED, BadTender.NAN)]
        await wait_for(
            "the home's error reports",
            lambda: {r.message_id for r in sim.book.errors_received} >= {faults[0].message_id},
        )
        await sampler
        # -- fault 3: the meter is gone for two intervals ----------------------------------------
        await sim_until(clock, at(12, 11))
        await rig.modbus_gone("meter")
        # The outage as it happened: on a loaded machine the waits above can end a few simulated
        # minutes late, so the intervals it covers are judged by these instants, not by 12:11.
        gone_at = clock.now()
        plans_in_gap = agent.cycle.planning.plans
        # Ten simulated minutes from when it went, however late that was: two whole intervals.
        await sim_until(clock, gone_at + timedelta(minutes=10))
        back_from = clock.now()
        await rig.modbus_back("meter")
        # The first whole interval with the meter back (12:25 when all ran on time), and one more.
        minutes = (back_from.astimezone(BERLIN) + timedelta(minutes=4)).minute
        after_gap = (back_from.astimezone(BERLIN) + timedelta(minutes=4 + (-minutes) % 5)).replace(
            second=0, microsecond=0
        )
        settled_until = max(at(12, 30), after_gap + timedelta(minutes=5)).astimezone(BERLIN)
        await sim_until(clock, settled_until + timedelta(seconds=90))
        await wait_for(
            "settlement through the interval after the meter's return",
            lambda: bool(agent.settler.settled) and agent.settler.settled[-1].interval.end >= settled_until,
            timeout_s=30.0,
        )
        plans_after = agent.cycle.planning.plans
        await sim.flush(20.0)
        confirmed = dict(sim.book.transactions)
        await wait_for(
            "every confirmed transaction in the ledger",
            lambda: {t.id for t in agent.ledger.transactions()} >= set(confirmed),
        )
        await agent.link.flush(20.0) if agent.link is not None else None
        await wait_for(
            "deliveries at the retailer", lambda: len(sim.book.deliveries) >= len(agent.settler.settled)
        )
        await sim.flush(20.0)
        await wait_for(
            "transport charges in the ledger",
            lambda: {t.id for t in agent.ledger.transactions()} >= set(sim.book.transactions),
        )
        mode_at_end = agent.state.mode
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(serving, 30.0)
        await sim.stop()
        await rig.stop()
        broker.stop()

    # -- afterwards: the ledger on disk ------------------------------------------------------------
    ledger = Ledger.open(tmp_path / "state", config.zone, home_party=home, clock=clock)
    try:
        with sqlite3.connect(tmp_path / "state" / "ledger.sqlite3") as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        stored = ledger.transactions()
        settlements = ledger.settlements(START - timedelta(hours=1), at(13, 0), home)
        # No transaction lost or doubled: every one the retailer confirmed is there exactly once.
        ids = [t.id for t in stored]
        assert len(ids) == len(set(ids))
        assert set(ids) == set(sim.book.transactions)
        for t in stored:
            assert t == sim.book.transactions[t.id]
        energy = [t for t in stored if t.product is Product.ENERGY]
        # Every tender the home recorded as posted reached the retailer, and nothing else did.
        # Whether the home posts within this hour at all depends on where its marginal value
        # falls: its bid curves reach 2 ct either side of it, and a tender of its own is posted
        # only between the retailer's best buy and sell (0.4 ct apart), so in some runs (the
        # plans fall at other instants on a loaded machine) none is. Posting through the link
        # is covered in tests/hil/test_retailer_link.py, from a plan's curves in tests/trading.
        assert set(sim.book.home_tenders) == {t.id for t in ledger.posted_tenders()}
        # Each one the retailer executed is in the ledger as a transaction, and none it withdrew
        # or left open is.
        on_home_tenders = {t.tender_id for t in energy if t.tender_id in sim.book.home_tenders}
        executed = {tid for tid, state in sim.book.home_state.items() if state is HomeTenderState.EXECUTED}
        assert on_home_tenders == executed
        assert any(t.tender_id in sim.book.offered for t in energy)
        assert [t for t in stored if t.product is Product.TRANSPORT]

        # Settled: at least three clean intervals before the gap, the gap estimated, and after it.
        by_start = {s.interval.start: s for s in settlements}
        clean = [s for s in settlements if FLAG_ESTIMATED not in s.flags]
        gap = [s for s in settlements if FLAG_ESTIMATED in s.flags]
        readings = ledger.readings("grid", at(11, 58), at(12, 12))
        assert len([s for s in clean if s.interval.end <= gone_at]) >= 3, [
            (r.ts.astimezone(BERLIN).time().isoformat(), r.estimated) for r in readings
        ]
        # Every interval wholly inside the outage is estimated (there is at least one: the meter
        # was away ten simulated minutes); none is estimated that did not touch it; and the
        # interval after the meter is back is clean again.
        five = timedelta(minutes=5)
        dark = [s for s in settlements if s.interval.start >= gone_at and s.interval.end <= back_from]
        assert dark, (gone_at, back_from)
        assert all(FLAG_ESTIMATED in s.flags for s in dark)
        assert all(gone_at - five <= s.interval.start < back_from + five for s in gap)
        assert FLAG_ESTIMATED not in by_start[after_gap].flags
        # Recovered: planning went on and settlement continued after the meter came back.
        assert plans_after > plans_in_gap
        assert mode_at_end == "optimising"

        # -- the bill, exactly: the ledger against the retailer's own records ---------------------
        first, last = settlements[0].interval, settlements[-1].interval
        period = (first.start_utc, last.end_utc)
        bill = ledger.bill(home, *period)
        retail = sim.book.bill(*period)
        assert retail.intervals == tuple(s.interval for s in settlements)
        # Exact up to Decimal's 28 significant digits (sums taken in another order).
        exact = Decimal("1e-12")
        assert abs(bill.forward - retail.forward) <= exact
        assert abs(bill.transport - retail.transport) <= exact
        assert abs(bill.spot - retail.spot) <= exact
        assert abs(bill.total - retail.total) <= exact

        # -- the bill by hand from the plant's meter counters and the retailer's prices ----------
        hand_spot = Decimal(0)
        for s in clean:
            imp, exp = plant_energy(counters, s)
            # The meter shows whole Wh, and the image trails the plant by at most one rig tick.
            assert abs(imp - s.import_kwh) <= Decimal("0.004"), s.interval
            assert abs(exp - s.export_kwh) <= Decimal("0.004"), s.interval
        for s in settlements:
            imp, exp = plant_energy(counters, s)
            position = sim.book.position_kwh(s.interval)
            hand_spot += (imp - exp - position) * sim.book.spot[s.interval].price_per_kwh
        hand_forward = Decimal(0)
        hand_transport = Decimal(0)
        for t in sim.book.transactions.values():
            lo, hi = max(t.interval.start_utc, period[0]), min(t.interval.end_utc, period[1])
            seconds = Decimal(max(0, int((hi - lo).total_seconds())))
            sign = 1 if t.buyer == home else -1
            amount = sign * t.quantity_kw * t.price_per_kwh * seconds / _SECONDS_PER_HOUR
            if t.product is Product.TRANSPORT:
                hand_transport += amount
            else:
                hand_forward += amount
        hand_total = hand_forward + hand_spot + hand_transport
        print(  # the numbers for the record (pytest -s)
            f"\nbill {period[0]}..{period[1]}: ledger total {bill.total:.6f} "
            f"(forward {bill.forward:.6f}, spot {bill.spot:.6f}, transport {bill.transport:.6f}); "
            f"retailer {retail.total:.6f}; by hand from the plant {hand_total:.6f}; "
            f"{len(settlements)} intervals, {len(gap)} estimated, {len(stored)} transactions"
        )
        assert abs(hand_forward - bill.forward) <= exact
        assert abs(hand_transport - bill.transport) <= Decimal("0.005")
        assert abs(hand_total - bill.total) < Decimal("0.01")
    finally:
        ledger.close()

    # -- dispatch: the inverter was told what the plan said, and the battery stayed in limits -----
    assert len(dispatch_samples) >= 5
    tol_kw = 0.25  # the dispatcher's deadband and ramp
    # The plan's power, except where dispatch said it followed the meter instead: then the
    # meter stays between 0 and the plan's flow.
    planned = [(p, lo, hi) for p, lo, hi, _ in dispatch_samples if not math.isnan(p)]
    # (what is left to the plan's power is mostly the ramps in and out of following the meter)
    followed = [lo - tol_kw <= p <= hi + tol_kw for p, lo, hi in planned]
    assert sum(followed) >= 0.6 * len(followed), dispatch_samples
    # Unless the battery is at its power limit, or still ramping there.
    held = [lim or min(g, 0.0) - tol_kw <= actual <= max(g, 0.0) + tol_kw for g, actual, lim in meter_samples]
    assert sum(held) >= 0.6 * len(held), meter_samples
    obeyed = [lo - tol_kw <= actual <= hi + tol_kw for _, lo, hi, actual in dispatch_samples]
    assert sum(obeyed) >= 0.8 * len(obeyed), dispatch_samples
    limit = max(SUMMER.battery_charge_kw, SUMMER.battery_discharge_kw) + 1e-6
    assert all(abs(kw) <= limit for kw in battery_kw)
