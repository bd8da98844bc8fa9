"""V2G dispatch: a plan's negative EV rate becomes a discharge current only on a charger that
can discharge, within the configured V2G limit, above the V2G floor, and never in a safe rule.

The car: 60 kWh, V2G floor 20 % (12 kWh), 3 x 230 V (690 W per A), v2g_max_kw 6.9 (10 A).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from agent.clock import ManualClock
from agent.dispatch import Dispatcher, DispatchSettings, DispatchTarget, EvTarget, Mode
from drivers.base import BidirectionalCharger, Capabilities
from tests.dispatch.conftest import HOME_YAML, T0, FakeDevice, FakeOutputs, fake_home, home_config, snapshot

V2G_YAML = HOME_YAML.replace(
    "    battery_kwh: 60\n", "    battery_kwh: 60\n    v2g: true\n    v2g_max_kw: 6.9\n"
).replace("topic_map: openevse", "topic_map: everest_bidirectional")


class FakeBidirectional(FakeOutputs):
    async def set_signed_current_a(self, current_a: float) -> None:
        await self._set("signed_current_a", current_a)


def v2g_dispatcher(
    clock: ManualClock, *, bidirectional: bool = True, yaml_text: str = V2G_YAML
) -> tuple[Dispatcher, FakeOutputs]:
    devices, _ = fake_home(clock)
    ev = (FakeBidirectional if bidirectional else FakeOutputs)("ev", clock)
    devices["ev"] = FakeDevice("ev", Capabilities(ev_charger=ev), clock)
    return Dispatcher(home_config(yaml_text), devices, clock, DispatchSettings()), ev


@dataclass(frozen=True)
class Row:
    id: str
    target_kw: float | None  # None: no valid plan
    expect_a: float
    mode: Mode = Mode.OPTIMISED
    limited: tuple[str, ...] = ()
    ev: dict[str, Any] = field(default_factory=dict)
    stale: tuple[str, ...] = ()
    bidirectional: bool = True
    yaml_text: str = V2G_YAML
    at: datetime = T0


ROWS = [
    # -3.45 kW / 690 W per A = -5 A
    Row("discharge", -3.45, -5.0),
    Row("discharge-capped-at-v2g-max", -10.0, -10.0, limited=("v2g_max_current",)),
    # Guards V2G planned but clamped to 0 for every charger: a bidirectional one discharges.
    Row("charge-still-charges", 6.9, 10.0),
    Row("at-the-floor", -3.45, 0.0, limited=("v2g_floor",), ev={"ev.vehicle_soc_pct": 20.0}),
    Row("below-the-floor", -3.45, 0.0, limited=("v2g_floor",), ev={"ev.vehicle_soc_pct": 5.0}),
    # 20.01 %: 0.006 kWh above the floor; over one 10 s cycle that is 2.16 kW = 3.13 A at most
    Row("tapered-near-the-floor", -3.45, -3.13, limited=("v2g_floor",), ev={"ev.vehicle_soc_pct": 20.01}),
    Row("soc-unknown", -3.45, 0.0, limited=("v2g_soc_unknown",), stale=("ev.vehicle_soc_pct",)),
    Row("unplugged", -3.45, 0.0, limited=("unplugged",), ev={"ev.plugged": False}),
    Row("charge-only-charger", -3.45, 0.0, limited=("no_discharge",), bidirectional=False),
    Row("v2g-not-configured", -3.45, 0.0, limited=("no_discharge",), yaml_text=HOME_YAML),
    # Safe rules: the departure rule charges (19.8 kWh in 9 h -> the 6 A minimum), never discharges.
    Row("safe-no-plan", None, 6.0, Mode.SAFE),
    Row("safe-plugged-stale", -3.45, 6.0, Mode.SAFE, stale=("ev.plugged",)),
    # 20 %: (0.8 - 0.2) * 60 kWh * 1.1 = 39.6 kWh in 9 h = 4.4 kW = 6.38 A, a charge
    Row("safe-soc-at-floor-no-plan", None, 6.38, Mode.SAFE, ev={"ev.vehicle_soc_pct": 20.0}),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
async def test_row(row: Row) -> None:
    clock = ManualClock(row.at)
    d, out = v2g_dispatcher(clock, bidirectional=row.bidirectional, yaml_text=row.yaml_text)
    target = None if row.target_kw is None else DispatchTarget({"ev": EvTarget(power_kw=row.target_kw)})
    report = await d.dispatch(target, snapshot({"ev": row.ev}, stale={"ev": row.stale}, at=row.at))
    got = report.devices["ev"]
    assert got.command is not None
    assert isinstance(got.command.value, float)
    assert got.command.value == pytest.approx(row.expect_a, abs=0.01)
    assert got.mode is row.mode, got.reason
    assert got.limited_by == row.limited
    assert got.error is None
    if row.expect_a < 0:
        assert out.writes == [("signed_current_a", pytest.approx(row.expect_a, abs=0.01))]
    else:
        assert all(key == "current_limit_a" for key, _ in out.writes), out.writes
        assert all(value >= 0 for _, value in out.writes)


async def test_the_fake_is_what_dispatch_takes_for_a_bidirectional_charger() -> None:
    # The table is only meaningful if the fake passes the runtime capability check.
    clock = ManualClock(T0)
    assert isinstance(FakeBidirectional("ev", clock), BidirectionalCharger)
    assert not isinstance(FakeOutputs("ev", clock), BidirectionalCharger)


async def test_safe_stop_of_a_discharging_car_charges_at_the_minimum() -> None:
    clock = ManualClock(T0)
    d, out = v2g_dispatcher(clock)
    await d.dispatch(DispatchTarget({"ev": EvTarget(power_kw=-3.45)}), snapshot())
    assert out.writes == [("signed_current_a", -5.0)]
    await d.safe_stop()
    assert out.writes[-1] == ("current_limit_a", 6.0)
