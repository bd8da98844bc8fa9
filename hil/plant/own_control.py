"""The devices' own control: what each device of the simulated home does when nothing commands it.

These are the ordinary rules of a home without an energy manager, written once. The baseline
(:mod:`hil.sim.baseline`) runs the whole home on them; the rig (:mod:`hil.rig`) and the
``simulated`` driver (:mod:`hil.simulated`) fall back to them for every device the agent has not
commanded (or cannot reach).

* **Heat pump**: its thermostat modulates around the setpoint (the comfort target unless
  one was written): full power ``band/2`` (0.25 K) or more on the cold side of it in heating,
  off ``band/2`` or more past it, linear between (:func:`hil.plant.house.thermostat_electric_kw`).
  Left to itself it changes over between heating and cooling by the home's rule (``mode`` auto:
  the cooling season, :mod:`agent.season`) and holds that mode's comfort target; with a
  setpoint written it works in the mode it was last put in (the thermostat's system mode).
* **Water heater**: the tank's own thermostat, with hysteresis. The element switches on when the
  tank falls below ``target − TANK_HYSTERESIS_K`` (5 K, a common mechanical tank thermostat's
  differential) and stays on until the tank reaches the target; between the two it keeps its last
  state.
* **Hybrid inverter**: self-consumption. The battery takes the surplus of the same moment,
  ``pv − base − heat_pump − water_heater − ev`` (positive: charge, negative: discharge into the
  deficit), as an inverter's own loop does within seconds (:attr:`PlantInputs.battery_window_kw`,
  with no window); the battery's own limits and state of charge cap what it takes.
* **EV charger**: offers the car its full current (``ev_max_a``) from arrival until it is full.
* **PV**: never curtailed.
"""

from __future__ import annotations

import math

from hil.plant.house import thermostat_electric_kw
from hil.plant.params import HomeParams
from hil.plant.plant import Plant, PlantInputs

TANK_HYSTERESIS_K = 5.0
# Self-consumption with no window: everything the battery's own limits allow.
SELF_CONSUMPTION_KW = (-math.inf, math.inf)


def tank_thermostat_on(tank_c: float, target_c: float, was_on: bool) -> bool:
    """The element's state under the tank's thermostat (see the module docstring)."""
    if tank_c >= target_c:
        return False
    if tank_c < target_c - TANK_HYSTERESIS_K:
        return True
    return was_on


class OwnControl:
    """The rules above for one plant; keeps the tank thermostat's state between steps."""

    def __init__(self, params: HomeParams) -> None:
        self.params = params
        self.element_on = False

    def heat_pump_kw(self, plant: Plant, setpoint_c: float | None = None) -> float:
        if plant.heat_pump is None or plant.house is None:
            return 0.0
        if setpoint_c is None:
            mode = self.params.mode_at(plant.now)
            plant.heat_pump.mode = mode  # the heat pump's own changeover
            setpoint_c = self.params.comfort(mode)[0]
        return thermostat_electric_kw(plant.heat_pump, setpoint_c, plant.house.indoor_c)

    def tank_element_on(self, plant: Plant) -> bool:
        """The tank thermostat's element state now (call once per step: it remembers)."""
        if plant.tank is None:
            self.element_on = False
        else:
            self.element_on = tank_thermostat_on(
                plant.tank.tank_c, self.params.tank_target_c, self.element_on
            )
        return self.element_on

    @property
    def ev_limit_a(self) -> float:
        return self.params.ev_max_a

    def inputs(self, plant: Plant) -> PlantInputs:
        """Every device on its own control: the home without an energy manager."""
        return PlantInputs(
            heat_pump_kw=self.heat_pump_kw(plant),
            element_on=self.tank_element_on(plant),
            battery_window_kw=SELF_CONSUMPTION_KW,
            ev_limit_a=self.ev_limit_a,
            pv_limit_kw=None,
        )
