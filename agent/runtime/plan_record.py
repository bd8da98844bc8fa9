"""A plan as the agent keeps it (the plan, the inputs and forecasts it was made from, when and
why), and whether the measured state has left it far enough to call for a new one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agent.forecast import Forecasts
from agent.market.intervals import Interval
from agent.optimizer import Devices, Plan
from agent.planning import BuiltInputs, MeasuredState

# Departures from the plan that call for a new one.
SOC_DEVIATION = 0.05  # fraction of capacity
INDOOR_DEVIATION_C = 0.5
TANK_DEVIATION_C = 3.0


@dataclass(frozen=True)
class PlanRecord:
    plan: Plan
    built: BuiltInputs
    forecasts: Forecasts
    made_at: datetime
    reason: str

    @property
    def first(self) -> Interval:
        return self.built.intervals[0]

    def index_at(self, now: datetime) -> int | None:
        """The plan step holding ``now``, or None when the plan does not reach it."""
        for i, interval in enumerate(self.built.intervals):
            if interval.contains(now):
                return i
        return None


def departure(record: PlanRecord, devices: Devices, state: MeasuredState, now: datetime) -> str | None:
    """Why the measured ``state`` calls for a new plan (None: it keeps to ``record``): the plan
    ran out, or the battery, the house or the tank is further from where the plan put them at
    the end of the last step than its threshold."""
    idx = record.index_at(now)
    if idx is None:
        return "plan ran out"
    if idx == 0:
        return None
    series = record.plan.series
    battery = devices.battery
    if battery is not None and state.battery_soc is not None and "battery_kwh" in series:
        planned_soc = float(series["battery_kwh"][idx - 1]) / battery.capacity_kwh
        if abs(planned_soc - state.battery_soc) > SOC_DEVIATION:
            return f"battery SoC {state.battery_soc:.2f} left the plan ({planned_soc:.2f})"
    if state.indoor_c is not None and "indoor_c" in series:
        planned = float(series["indoor_c"][idx - 1])
        if abs(planned - state.indoor_c) > INDOOR_DEVIATION_C:
            return f"indoor {state.indoor_c:.1f} °C left the plan ({planned:.1f} °C)"
    if state.tank_c is not None and "tank_c" in series:
        planned = float(series["tank_c"][idx - 1])
        if abs(planned - state.tank_c) > TANK_DEVIATION_C:
            return f"tank {state.tank_c:.1f} °C left the plan ({planned:.1f} °C)"
    return None
