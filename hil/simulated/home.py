"""The simulated home behind every ``driver: {type: simulated}`` device of one agent.

All simulated devices of a configuration share one :class:`SimulatedHome` (a link in the
context's :class:`~drivers.base.LinkPool`), so the simulated meter sees what the simulated
battery, PV and loads do. The physics is the rig's plant (``hil.plant``), holding only the devices
that are configured: a config with just a simulated meter meters the recorded household base load.

The home advances its plant to ``clock.now()`` whenever a device refreshes. Until the agent
commands something, each device follows its own control (:mod:`hil.plant.own_control`, the
rules the baseline runs on): thermostat at the setpoint, water heater on its tank thermostat,
battery on self-consumption, EV charging at full power, PV uncapped.

A device's role comes from :func:`prepare` (the config's roles and parameters) when the caller
ran it before building devices; otherwise it is inferred from the write limits the assembly
derived from the role (battery limits: battery; EV current: EV charger; PV rating: curtailable
PV; a setpoint range above 35 °C: water heater, below: thermostat; none: meter).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, Literal

from agent.clock import Clock
from drivers.base import DeviceContext, DeviceLimits
from hil.plant import SUMMER, HomeParams, Plant, PlantInputs, build_plant
from hil.plant.own_control import SELF_CONSUMPTION_KW, OwnControl

Role = Literal["meter", "pv_inverter", "battery", "ev_charger", "heat_pump", "thermostat", "water_heater"]
LINK_KEY = "simulated:home"
# No comfort band reaches 35 °C, no hot-water band starts below it.
WATER_SETPOINT_MIN_C = 35.0


def infer_role(limits: DeviceLimits) -> Role:
    if limits.battery is not None:
        return "battery"
    if limits.ev_current_a is not None:
        return "ev_charger"
    if limits.pv_rated_w is not None:
        return "pv_inverter"
    if limits.setpoint_c is not None:
        return "water_heater" if sum(limits.setpoint_c) / 2 >= WATER_SETPOINT_MIN_C else "thermostat"
    return "meter"


class SimulatedHome:
    """One plant for all simulated devices (a :class:`~drivers.base.Link`)."""

    def __init__(self, clock: Clock, params: HomeParams = SUMMER) -> None:
        self.clock = clock
        self.params = params
        self.roles: dict[str, Role] = {}
        self.plant: Plant | None = None
        # What the agent commanded; None: the device's own logic.
        self.battery_kw: float | None = None
        self.pv_limit_kw: float | None = None
        self.setpoint_c: float = params.comfort_target_c
        self.element_on: bool | None = None
        self.ev_limit_a: float | None = None
        self.own = OwnControl(params)
        # The plant starts when the devices were built, so time passed before the first refresh counts.
        self._start = clock.now()

    async def close(self) -> None:
        """Nothing to release: the plant lives in memory."""

    def role_of(self, name: str, limits: DeviceLimits) -> Role:
        role = self.roles.get(name) or infer_role(limits)
        self.roles[name] = role
        return role

    def _build(self, start: datetime) -> Plant:
        plant = build_plant(self.params, start)
        roles = set(self.roles.values())
        if not roles & {"thermostat", "heat_pump"}:
            plant.house = None
            plant.heat_pump = None
        if "water_heater" not in roles:
            plant.tank = None
        if "battery" not in roles:
            plant.battery = None
        if "ev_charger" not in roles:
            plant.ev = None
        if "pv_inverter" not in roles:
            plant.pv = None
        return plant

    def advance(self) -> Plant:
        now = self.clock.now()
        if self.plant is None:
            self.plant = self._build(min(now, self._start))
        plant = self.plant
        while (left_s := (now - plant.now).total_seconds()) > 1e-6:
            plant.step(min(left_s, 10.0), self.inputs(plant))
        return plant

    def inputs(self, plant: Plant) -> PlantInputs:
        """What the plant runs on next: the agent's commands, and each device's own control elsewhere."""
        own = self.own
        # The tank thermostat follows the tank even while the agent commands the element, so it
        # is in the right state when control is handed back.
        thermostat_on = own.tank_element_on(plant)
        return PlantInputs(
            heat_pump_kw=own.heat_pump_kw(plant, self.setpoint_c),
            element_on=thermostat_on if self.element_on is None else self.element_on,
            battery_kw=0.0 if self.battery_kw is None else self.battery_kw,
            battery_window_kw=SELF_CONSUMPTION_KW if self.battery_kw is None else None,
            ev_limit_a=own.ev_limit_a if self.ev_limit_a is None else self.ev_limit_a,
            pv_limit_kw=self.pv_limit_kw,
        )


def home_of(ctx: DeviceContext) -> SimulatedHome:
    return ctx.links.get_or_create(LINK_KEY, SimulatedHome, lambda: SimulatedHome(ctx.clock))


def prepare(config: Any, ctx: DeviceContext) -> SimulatedHome:
    """Give the simulated home the config's site, roles and device parameters (before building devices)."""
    site = config.site
    params = dataclasses.replace(
        SUMMER,
        timezone=str(site.timezone),
        latitude_deg=float(site.latitude),
        longitude_deg=float(site.longitude),
    )
    changes: dict[str, Any] = {}
    for dev in config.devices.values():
        if getattr(dev.driver, "type", None) != "simulated":
            continue
        role = dev.role
        if role == "battery":
            changes |= {
                "battery_kwh": dev.capacity_kwh, "battery_charge_kw": dev.charge_max_kw,
                "battery_discharge_kw": dev.discharge_max_kw, "soc_min": dev.soc_min, "soc_max": dev.soc_max,
            }  # fmt: skip
        elif role == "pv_inverter":
            changes |= {
                "pv_peak_kw": dev.peak_kw,
                "pv_tilt_deg": dev.tilt_deg,
                "pv_azimuth_deg": dev.azimuth_deg,
            }
        elif role in ("thermostat", "heat_pump"):
            rule = dev.mode_rule()
            cooling = dev.comfort_in("cooling")
            changes |= {
                "mode": dev.mode, "cooling_season": rule.cooling,
                "cooling_target_c": cooling.target_c, "cooling_band_c": cooling.band_c,
                "heat_pump_max_kw": dev.electric_max_kw,
                "house_r_k_per_kw": dev.house.r_k_per_kw, "house_c_kwh_per_k": dev.house.c_kwh_per_k,
                "comfort_target_c": dev.comfort.target_c, "indoor_start_c": dev.comfort.target_c,
            }  # fmt: skip
        elif role == "water_heater":
            changes |= {
                "tank_l": dev.tank_l, "element_kw": dev.element_kw, "tank_target_c": dev.target_c,
                "tank_ua_w_per_k": dev.ua_w_per_k, "inlet_c": dev.inlet_c, "tank_ambient_c": dev.ambient_c,
            }  # fmt: skip
        elif role == "ev_charger":
            changes |= {"ev_battery_kwh": dev.battery_kwh, "ev_max_kw": dev.max_kw}
    home = ctx.links.get_or_create(LINK_KEY, SimulatedHome, lambda: SimulatedHome(ctx.clock))
    home.params = dataclasses.replace(params, **changes)
    home.own = OwnControl(home.params)
    home.setpoint_c = home.params.comfort_target_c
    home.roles.update(
        {n: d.role for n, d in config.devices.items() if getattr(d.driver, "type", None) == "simulated"}
    )
    return home
