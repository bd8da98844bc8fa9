"""From the cycle's snapshot to what planning and forecasting need.

* :func:`measured_state`: the devices' states the planner starts from (a stale value becomes
  None, and the planning glue falls back and says so);
* :class:`IntervalAverager`: mean powers over each metering interval, turned into the forecast's
  observations when the interval closes. The uncontrolled base load is what the meter saw minus
  the controllable devices plus PV (agent/units.py's balance solved for the base load).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from agent.config import Config
from agent.config.devices import Battery, EvCharger, PvInverter, WaterHeater
from agent.dispatch import Snapshot
from agent.market.intervals import Duration, Interval, containing
from agent.planning import MeasuredState
from agent.units import w_to_kw


def _number(snapshot: Snapshot, device: str | None, quantity: str) -> float | None:
    if device is None or not snapshot.fresh(device, quantity):
        return None
    value = snapshot.get(device, quantity).value
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _flag(snapshot: Snapshot, device: str | None, quantity: str) -> bool | None:
    if device is None or not snapshot.fresh(device, quantity):
        return None
    value = snapshot.get(device, quantity).value
    return value if isinstance(value, bool) else None


def measured_state(snapshot: Snapshot, config: Config, roles: Mapping[str, str]) -> MeasuredState:
    battery = roles.get("battery")
    ev = roles.get("ev")
    soc_pct = _number(snapshot, battery, "battery.soc_pct")
    ev_soc_pct = _number(snapshot, ev, "ev.vehicle_soc_pct")
    ev_energy_kwh = None
    if ev is not None and ev_soc_pct is not None:
        charger = config.devices[ev]
        if isinstance(charger, EvCharger):
            ev_energy_kwh = ev_soc_pct / 100.0 * charger.battery_kwh
    thermal = roles.get("heat_pump")
    return MeasuredState(
        battery_soc=None if soc_pct is None else soc_pct / 100.0,
        ev_plugged=_flag(snapshot, ev, "ev.plugged"),
        ev_energy_kwh=ev_energy_kwh,
        indoor_c=_number(snapshot, thermal, "thermostat.indoor_c"),
        tank_c=_number(snapshot, roles.get("water_heater"), "water_heater.tank_c"),
    )


# The power each controlled role reports, with its sign in the balance grid = base + devices - pv:
# the base load is grid - devices + pv. Taken from the device configured in that role only: a
# hybrid inverter serves the pv and the battery roles from one box, and both of its driver
# instances offer the battery's power (counted twice, the battery's every kW landed in the base
# load: discharging 2 kW in the evening made a 0.5 kW house look like 2.5 kW).
_ROLE_POWERS: tuple[tuple[type, str], ...] = (
    (Battery, "battery.power_w"),
    (EvCharger, "ev.power_w"),
    (WaterHeater, "water_heater.element_power_w"),
)


@dataclass
class _Sums:
    n: int = 0
    sums_kw: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, key: str, value_kw: float) -> None:
        self.sums_kw[key] += value_kw
        self.counts[key] += 1

    def mean(self, key: str) -> float | None:
        return self.sums_kw[key] / self.counts[key] if self.counts.get(key) else None


@dataclass(frozen=True)
class Observation:
    interval: Interval
    base_load_kw: float | None
    pv_kw: float | None
    grid_kw: float | None


class IntervalAverager:
    def __init__(self, config: Config, meter: str, metering: Duration) -> None:
        self._meter = meter
        self._metering = metering
        self._tz = config.zone
        self._pv = [n for n, d in config.devices.items() if isinstance(d, PvInverter)]
        self._powers = [
            (name, quantity)
            for name, dev in config.devices.items()
            for role, quantity in _ROLE_POWERS
            if isinstance(dev, role) and name != meter
        ]
        self._current: Interval | None = None
        self._sums = _Sums()

    def add(self, snapshot: Snapshot, unmeasured_kw: float = 0.0) -> Observation | None:
        """Add one snapshot; returns the closed interval's observation when a new one begins.

        ``unmeasured_kw`` is the planned power of controlled loads that report no power of their
        own (a heat pump behind a thermostat): subtracted so the base load does not include it.
        """
        interval = containing(snapshot.taken_at, self._metering, self._tz)
        closed: Observation | None = None
        if self._current is not None and interval != self._current:
            closed = self._observation(self._current)
            self._sums = _Sums()
        self._current = interval
        grid_w = _number(snapshot, self._meter, "meter.power_w")
        pv_w = [_number(snapshot, n, "pv.power_w") for n in self._pv]
        pv_kw = w_to_kw(sum(v for v in pv_w if v is not None)) if None not in pv_w else None
        if pv_kw is not None and self._pv:
            self._sums.add("pv", pv_kw)
        if grid_w is None or pv_kw is None:
            return closed
        controlled_kw = unmeasured_kw
        for device, quantity in self._powers:
            value = _number(snapshot, device, quantity)
            if value is not None:
                controlled_kw += w_to_kw(value)
        self._sums.add("grid", w_to_kw(grid_w))
        # Unclipped: the meter and a device report a switching load a moment apart, so one sample
        # overshoots and the next undershoots by the load's power. Clipping each sample at 0 kept
        # the overshoots and dropped the undershoots, and the base load grew by a share of every
        # switched load (2-4 times the real base load at 2400x real time); the mean is clipped.
        self._sums.add("base", w_to_kw(grid_w) - controlled_kw + pv_kw)
        return closed

    def _observation(self, interval: Interval) -> Observation:
        base = self._sums.mean("base")
        base = None if base is None else max(0.0, base)
        return Observation(interval, base, self._sums.mean("pv"), self._sums.mean("grid"))
