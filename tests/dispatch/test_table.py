"""Cycle inputs -> expected commands, one row per limit and per safe rule (OpenEMS style).

Each row: the target (``None``: no valid plan), what differs from a normal evening snapshot,
which values are stale, and what dispatch must command for one device, in which mode, held by
which limits. Rows name the bug they guard against where it is not obvious.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from agent.clock import ManualClock
from agent.dispatch import (
    BatteryTarget,
    DeviceTarget,
    DispatchTarget,
    EvTarget,
    Mode,
    PvTarget,
    ThermalTarget,
    WaterHeaterTarget,
)
from tests.dispatch.conftest import T0, dispatcher, snapshot

EV_MAX_A = 11000 / 690  # 3 x 230 V


@dataclass(frozen=True)
class Row:
    id: str
    device: str
    target: dict[str, DeviceTarget] | None
    expect: float | bool | None
    mode: Mode = Mode.OPTIMISED
    limited: tuple[str, ...] = ()
    reason: str = ""
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    stale: dict[str, tuple[str, ...]] = field(default_factory=dict)
    at: datetime = T0
    duty_relays: bool = False


ROWS = [
    # --- battery: capacity 10 kWh, +-5 kW, reserve 20 %, soc_max 95 %, grid import 6 / export 4 kW
    Row("bat-plan", "battery", {"battery": BatteryTarget(2.0)}, 2000.0),
    # following the plan's meter flow: a planned load that stopped (the car is full) must not
    # send the planned discharge out to the grid; the house's own 0.5 kW is still covered
    Row(
        "bat-meter-load-stopped",
        "battery",
        {"battery": BatteryTarget(-3.0, grid_kw=4.3)},
        -500.0,
        limited=("meter",),
    ),
    # an unplanned load comes from the battery, not the grid
    Row(
        "bat-meter-extra-load",
        "battery",
        {"battery": BatteryTarget(1.0, grid_kw=1.5)},
        -1000.0,
        limited=("meter",),
        overrides={"grid": {"meter.power_w": 2500.0}},
    ),
    # an element switched off in the same cycle: the battery follows the meter as it will be,
    # not a cycle late (it would send 3 kW to the grid for the next minute)
    Row(
        "bat-meter-element-goes-off",
        "battery",
        {"battery": BatteryTarget(-3.0, grid_kw=0.0), "tank": WaterHeaterTarget(on=False)},
        -500.0,
        limited=("meter",),
        overrides={
            "tank": {"water_heater.element_on": True},
            "battery": {"battery.power_w": -3000.0},
        },
    ),
    Row(
        "bat-meter-element-comes-on",
        "battery",
        {"battery": BatteryTarget(-3.0, grid_kw=0.0), "tank": WaterHeaterTarget(on=True)},
        -3500.0,
        limited=("meter",),
        overrides={"battery": {"battery.power_w": -3000.0}, "grid": {"meter.power_w": -2500.0}},
    ),
    # less import than planned: no extra charge from the grid
    Row("bat-meter-no-grid-charge", "battery", {"battery": BatteryTarget(0.0, grid_kw=2.0)}, 0.0),
    # an unplanned surplus goes into the battery instead of out to the grid
    Row(
        "bat-meter-surplus",
        "battery",
        {"battery": BatteryTarget(1.0, grid_kw=0.0)},
        2000.0,
        limited=("meter",),
        overrides={"grid": {"meter.power_w": -2000.0}},
    ),
    Row("bat-charge-max", "battery", {"battery": BatteryTarget(8.0)}, 5000.0, limited=("charge_max",)),
    Row(
        "bat-discharge-max",
        "battery",
        {"battery": BatteryTarget(-9.0)},
        -5000.0,
        limited=("discharge_max",),
        overrides={"grid": {"meter.power_w": 2000.0}},
    ),
    # never below the backup reserve, whatever the plan says
    Row(
        "bat-reserve",
        "battery",
        {"battery": BatteryTarget(-3.0)},
        0.0,
        limited=("soc_floor",),
        overrides={"battery": {"battery.soc_pct": 20.0}},
    ),
    # 0.1 % above the reserve: 10 Wh * 0.95 may go in one 10-s cycle = 3420 W, not 5 kW
    Row(
        "bat-taper",
        "battery",
        {"battery": BatteryTarget(-5.0)},
        -3420.0,
        limited=("soc_floor",),
        overrides={"battery": {"battery.soc_pct": 20.1}},
    ),
    Row(
        "bat-ceiling",
        "battery",
        {"battery": BatteryTarget(2.0)},
        0.0,
        limited=("soc_ceiling",),
        overrides={"battery": {"battery.soc_pct": 95.0}},
    ),
    # rest of the home draws 5 kW: charging 3 kW would import 8 kW > the 6 kW fuse
    Row(
        "bat-import-max",
        "battery",
        {"battery": BatteryTarget(3.0)},
        1000.0,
        limited=("grid_import_max",),
        overrides={"grid": {"meter.power_w": 5000.0}},
    ),
    Row(
        "bat-export-max",
        "battery",
        {"battery": BatteryTarget(-3.0)},
        -2000.0,
        limited=("grid_export_max",),
        overrides={"grid": {"meter.power_w": -2000.0}},
    ),
    # safe rules
    Row("bat-no-plan-self-consumption", "battery", None, -500.0, Mode.SAFE, reason="no valid plan"),
    Row(
        "bat-safe-absorbs-export",
        "battery",
        None,
        2500.0,
        Mode.SAFE,
        overrides={"grid": {"meter.power_w": -2000.0}, "battery": {"battery.power_w": 500.0}},
    ),
    Row(
        "bat-safe-at-reserve",
        "battery",
        None,
        0.0,
        Mode.SAFE,
        limited=("soc_floor",),
        overrides={"battery": {"battery.soc_pct": 20.0}},
    ),
    Row(
        "bat-stale-meter-idle",
        "battery",
        {"battery": BatteryTarget(2.0)},
        0.0,
        Mode.SAFE,
        reason="meter.power_w stale",
        stale={"grid": ("meter.power_w",)},
    ),
    Row(
        "bat-stale-soc-idle",
        "battery",
        {"battery": BatteryTarget(2.0)},
        0.0,
        Mode.SAFE,
        reason="battery.soc_pct stale",
        stale={"battery": ("battery.soc_pct",)},
    ),
    Row(
        "bat-plan-without-battery",
        "battery",
        {"ev": EvTarget(current_a=0)},
        -500.0,
        Mode.SAFE,
        reason="no target for this device",
    ),
    # --- EV: 3 x 230 V, 6..15.9 A, departure 07:00 local, target 80 % of 60 kWh
    Row("ev-plan", "ev", {"ev": EvTarget(power_kw=6.9)}, 10.0),
    Row("ev-round-up-to-min", "ev", {"ev": EvTarget(power_kw=2.5)}, 6.0, limited=("ev_min_current",)),
    Row("ev-round-down-to-pause", "ev", {"ev": EvTarget(power_kw=1.0)}, 0.0, limited=("ev_min_current",)),
    Row("ev-max", "ev", {"ev": EvTarget(current_a=32)}, round(EV_MAX_A, 2), limited=("ev_max_current",)),
    Row("ev-no-v2g", "ev", {"ev": EvTarget(power_kw=-3)}, 0.0, limited=("no_discharge",)),
    Row(
        "ev-unplugged",
        "ev",
        {"ev": EvTarget(power_kw=6.9)},
        0.0,
        limited=("unplugged",),
        overrides={"ev": {"ev.plugged": False}},
    ),
    # 22:00: (0.8 - 0.5) * 60 kWh * 1.1 = 19.8 kWh in 9 h = 2.2 kW = 3.2 A -> the 6 A minimum
    Row("ev-safe-departure-min", "ev", None, 6.0, Mode.SAFE, reason="19.8 kWh in 9.0 h"),
    # 03:00 local: 19.8 kWh in 4 h = 4.95 kW = 7.17 A
    Row("ev-safe-departure-rate", "ev", None, 7.17, Mode.SAFE, at=datetime(2026, 1, 16, 2, 0, tzinfo=UTC)),
    Row(
        "ev-safe-late-full",
        "ev",
        None,
        round(EV_MAX_A, 2),
        Mode.SAFE,
        reason="late",
        overrides={"ev": {"ev.vehicle_soc_pct": 10.0}},
        at=datetime(2026, 1, 16, 4, 0, tzinfo=UTC),
    ),
    Row(
        "ev-safe-soc-unknown-full",
        "ev",
        None,
        round(EV_MAX_A, 2),
        Mode.SAFE,
        reason="SoC unknown",
        stale={"ev": ("ev.vehicle_soc_pct",)},
    ),
    Row(
        "ev-safe-reached",
        "ev",
        None,
        0.0,
        Mode.SAFE,
        reason="reached",
        overrides={"ev": {"ev.vehicle_soc_pct": 85.0}},
    ),
    Row(
        "ev-plugged-stale",
        "ev",
        {"ev": EvTarget(power_kw=6.9)},
        6.0,
        Mode.SAFE,
        reason="ev.plugged stale",
        stale={"ev": ("ev.plugged",)},
    ),
    # --- thermostat: comfort 21 +- 1 degC
    Row("th-plan", "heat_pump", {"heat_pump": ThermalTarget(setpoint_c=21.5)}, 21.5),
    Row("th-band", "heat_pump", {"heat_pump": ThermalTarget(setpoint_c=24)}, 22.0, limited=("comfort_max",)),
    Row("th-safe", "heat_pump", None, 21.0, Mode.SAFE),
    Row(
        "th-stale",
        "heat_pump",
        {"heat_pump": ThermalTarget(setpoint_c=21.5)},
        21.0,
        Mode.SAFE,
        stale={"heat_pump": ("thermostat.indoor_c",)},
    ),
    Row(
        "th-no-setpoint",
        "heat_pump",
        {"heat_pump": ThermalTarget(electric_kw=2)},
        21.0,
        Mode.SAFE,
        reason="no setpoint",
    ),
    # --- relay heat pump (3 kW)
    Row("relay-duty", "boost", {"boost": ThermalTarget(electric_kw=1.5)}, 0.5, duty_relays=True),
    Row("relay-on", "boost", {"boost": ThermalTarget(electric_kw=2.0)}, True),
    Row("relay-safe-off", "boost", None, False, Mode.SAFE),
    # --- water heater with its own switch and tank probe: target 55, 45..65, hysteresis 5
    Row("wh-plan-on", "tank", {"tank": WaterHeaterTarget(power_kw=3)}, True),
    Row("wh-plan-off", "tank", {"tank": WaterHeaterTarget(on=False)}, False),
    Row(
        "wh-max",
        "tank",
        {"tank": WaterHeaterTarget(on=True)},
        False,
        limited=("tank_max",),
        overrides={"tank": {"water_heater.tank_c": 66.0}},
    ),
    Row(
        "wh-min",
        "tank",
        {"tank": WaterHeaterTarget(on=False)},
        True,
        limited=("tank_min",),
        overrides={"tank": {"water_heater.tank_c": 40.0}},
    ),
    Row("wh-safe-cold", "tank", None, True, Mode.SAFE, overrides={"tank": {"water_heater.tank_c": 48.0}}),
    Row("wh-safe-hot", "tank", None, False, Mode.SAFE, overrides={"tank": {"water_heater.tank_c": 56.0}}),
    Row("wh-safe-band-keeps-off", "tank", None, False, Mode.SAFE),
    Row(
        "wh-safe-probe-lost",
        "tank",
        {"tank": WaterHeaterTarget(on=False)},
        True,
        Mode.SAFE,
        reason="tank_c stale",
        stale={"tank": ("water_heater.tank_c",)},
    ),
    # --- water heater on a GPIO relay (2 kW)
    Row("wh-relay-duty", "tank2", {"tank2": WaterHeaterTarget(power_kw=0.5)}, 0.25, duty_relays=True),
    Row("wh-relay-safe-on", "tank2", None, True, Mode.SAFE),
    Row(
        "wh-relay-lost",
        "tank2",
        {"tank2": WaterHeaterTarget(power_kw=2)},
        True,
        Mode.SAFE,
        reason="switch.on stale",
        stale={"tank2": ("switch.on",)},
    ),
    # --- PV: rated 8 kW
    Row("pv-cap", "pv", {"pv": PvTarget(3.0)}, 3000.0),
    Row("pv-rated", "pv", {"pv": PvTarget(12.0)}, 8000.0, limited=("pv_rated",)),
    Row("pv-lift", "pv", {"pv": PvTarget(None)}, None),
    Row("pv-safe-lift", "pv", None, None, Mode.SAFE),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
async def test_row(row: Row) -> None:
    d, _ = dispatcher(ManualClock(row.at), duty_relays=row.duty_relays)
    target = None if row.target is None else DispatchTarget(row.target)
    report = await d.dispatch(target, snapshot(row.overrides, stale=row.stale, at=row.at))
    got = report.devices[row.device]
    assert got.command is not None
    value = got.command.value
    if isinstance(row.expect, float) and not isinstance(row.expect, bool):
        assert isinstance(value, float)
        assert value == pytest.approx(row.expect, abs=0.01)
    else:
        assert value == row.expect
    assert got.mode is row.mode
    assert set(row.limited) <= set(got.limited_by), got.limited_by
    if not row.limited:
        assert got.limited_by == (), got.limited_by
    assert row.reason in (got.reason or ""), got.reason
