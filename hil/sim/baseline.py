"""The baseline: the same home under ordinary rules, simulated directly (no agent, no trading).

Rules, as a home without an energy manager behaves:

* the thermostat holds the comfort target (the heat pump's own modulating control);
* the water heater runs on its own thermostat: on below target − ``TANK_HYSTERESIS_K``, off at
  the target;
* the hybrid inverter does self-consumption (charge from surplus PV, discharge into the deficit);
* the EV charges at full rate from arrival until it has what it needs;
* no PV curtailment.

Billing: with no forward transactions every metered kWh of a metering interval settles at that
interval's spot price, plus the DSO's network charge on imported and exported kWh, as the
retailer simulator bills a home that never trades (the same rules that bill the agent's
deviations from its position and its metered flows).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hil.emulators.sunspec_devices import InverterControls
from hil.plant import HomeParams, Plant, PlantInputs, build_plant
from hil.plant.house import thermostat_electric_kw
from hil.sim.recorder import Recorder
from hil.sim.tariff import Tariff

TANK_HYSTERESIS_K = 5.0


class BaselineController:
    """The rules above as a function of the plant's state; one call per step."""

    def __init__(self, params: HomeParams) -> None:
        self.params = params
        self.controls = InverterControls(
            w_max_w=params.pv_peak_kw * 1000.0, w_cha_max_w=params.battery_charge_kw * 1000.0
        )
        self.element_on = False

    def inputs(self, plant: Plant) -> PlantInputs:
        p = self.params
        hp_kw = 0.0
        if plant.heat_pump is not None and plant.house is not None:
            hp_kw = thermostat_electric_kw(plant.heat_pump, p.comfort_target_c, plant.house.indoor_c)
        if plant.tank is not None:
            if plant.tank.tank_c >= p.tank_target_c:
                self.element_on = False
            elif plant.tank.tank_c < p.tank_target_c - TANK_HYSTERESIS_K:
                self.element_on = True
        surplus_kw = 0.0
        if plant.last is not None:
            pw = plant.last.powers_kw
            surplus_kw = pw["pv"] - pw["base"] - pw["heat_pump"] - pw["water_heater"] - pw["ev"]
        return PlantInputs(
            heat_pump_kw=hp_kw,
            element_on=self.element_on,
            battery_kw=self.controls.battery_kw(surplus_kw),
            ev_limit_a=p.ev_max_a,
            pv_limit_kw=None,
        )


@dataclass(frozen=True)
class BaselineResult:
    cost: float
    recorder: Recorder


def run_baseline(
    params: HomeParams, start: datetime, days: float, tariff: Tariff, *, bin_s: float, step_s: float = 30.0
) -> BaselineResult:
    end = start + timedelta(days=days)
    plant = build_plant(params, start, days=int(days) + 2)
    recorder = Recorder(plant, params, start=start, end=end, bin_s=bin_s)
    control = BaselineController(params)
    while (left_s := (end - plant.now).total_seconds()) > 1e-6:
        inputs = control.inputs(plant)
        recorder(plant.step(min(step_s, left_s), inputs), inputs)
    recorder.finish()
    cost = sum(
        tariff.metered_cost(b.start, b.import_kwh, b.export_kwh) for b in recorder.bins if b.start < end
    )
    return BaselineResult(cost, recorder)
