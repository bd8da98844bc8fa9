"""A simulated device: the capability its role needs, read from and written to the simulated home.

``refresh`` advances the shared plant to the clock's now and stores this device's values (so a
device not refreshed for ``stale_after_s`` goes stale like any polled device). Writes are checked
against the configured limits exactly as the real drivers check them, then change the home's
commands; the next refresh reads them back from the plant.
"""

from __future__ import annotations

import logging

from drivers.base import (
    BatteryLimits,
    Capabilities,
    DeviceIdentity,
    DeviceLimits,
    DeviceReport,
    Health,
    Reading,
    ThermostatMode,
    ValueStore,
)
from drivers.errors import DriverConfigError
from hil.simulated.home import Role, SimulatedHome
from hil.store_facets import StoreFacet, StoreMeter

STALE_AFTER_S = 120.0
_VALUES: dict[str, tuple[tuple[str, str], ...]] = {
    "meter": (("power_w", "W"), ("import_kwh", "kWh"), ("export_kwh", "kWh")),
    "battery": (("soc_pct", "%"), ("power_w", "W")),
    "pv_inverter": (("power_w", "W"), ("energy_kwh", "kWh")),
    "thermostat": (("indoor_c", "°C"), ("setpoint_c", "°C"), ("mode", "")),
    "water_heater": (("tank_c", "°C"), ("element_on", "")),
    "ev_charger": (
        ("plugged", ""),
        ("charging", ""),
        ("power_w", "W"),
        ("current_limit_a", "A"),
        ("session_kwh", "kWh"),
    ),
}


class SimulatedDevice(DeviceIdentity):
    def __init__(self, name: str, role: Role, home: SimulatedHome, limits: DeviceLimits) -> None:
        self._name = name
        self._driver = "simulated"
        self.role = role
        self.home = home
        self.limits = limits
        self._health = Health(name, home.clock, logging.getLogger(f"hil.simulated.{name}"))
        self.store = ValueStore(home.clock, name, STALE_AFTER_S)
        self._capabilities = self._make_capabilities()
        for value_name, unit in _VALUES[role if role != "heat_pump" else "thermostat"]:
            self.store.declare(value_name, unit)  # read before the first refresh: stale, not unknown

    def _make_capabilities(self) -> Capabilities:
        role = self.role
        if role == "battery":
            return Capabilities(battery=_Battery(self))
        if role == "pv_inverter":
            return Capabilities(pv_inverter=_Pv(self))
        if role == "ev_charger":
            return Capabilities(ev_charger=_Ev(self))
        if role in ("thermostat", "heat_pump"):
            return Capabilities(thermostat=_Thermostat(self))
        if role == "water_heater":
            return Capabilities(water_heater=_WaterHeater(self))
        return Capabilities(energy_meter=StoreMeter(self))

    # -- Device protocol ------------------------------------------------------------------------

    async def start(self) -> None:
        """Nothing to open."""

    async def refresh(self) -> None:
        with self._health.track():
            plant = self.home.advance()
            last = plant.last
            powers = last.powers_kw if last is not None else {}
            src = f"simulated:{self.role}"
            put = self.store.set
            if self.role == "meter":
                put("power_w", (last.grid_kw if last else 0.0) * 1000.0, "W", src)
                put("import_kwh", plant.meter.import_kwh, "kWh", src)
                put("export_kwh", plant.meter.export_kwh, "kWh", src)
            elif self.role == "battery" and plant.battery is not None:
                put("soc_pct", plant.battery.soc * 100.0, "%", src)
                put("power_w", powers.get("battery", 0.0) * 1000.0, "W", src)
            elif self.role == "pv_inverter" and plant.pv is not None:
                put("power_w", powers.get("pv", 0.0) * 1000.0, "W", src)
                put("energy_kwh", plant.pv.energy_kwh, "kWh", src)
            elif self.role in ("thermostat", "heat_pump") and plant.house is not None:
                put("indoor_c", plant.house.indoor_c, "°C", src)
                put("setpoint_c", self.home.setpoint_c, "°C", src)
                mode = plant.heat_pump.mode if plant.heat_pump is not None else "heating"
                put("mode", ThermostatMode.HEAT if mode == "heating" else ThermostatMode.COOL, "", src)
            elif self.role == "water_heater" and plant.tank is not None:
                put("tank_c", plant.tank.tank_c, "°C", src)
                put("element_on", powers.get("water_heater", 0.0) > 0.0, "", src)
            elif self.role == "ev_charger" and plant.ev is not None:
                ev = plant.ev
                put("plugged", ev.plugged, "", src)
                put("charging", powers.get("ev", 0.0) > 0.0, "", src)
                put("power_w", powers.get("ev", 0.0) * 1000.0, "W", src)
                limit_a = self.home.params.ev_max_a if self.home.ev_limit_a is None else self.home.ev_limit_a
                put("current_limit_a", limit_a, "A", src)
                put("session_kwh", ev.current.grid_kwh if ev.current else 0.0, "kWh", src)

    async def stop(self) -> None:
        """Hand control back to the device's own logic."""
        home = self.home
        if self.role == "battery":
            home.battery_kw = None
        elif self.role == "pv_inverter":
            home.pv_limit_kw = None
        elif self.role == "water_heater":
            home.element_on = None
        elif self.role == "ev_charger":
            home.ev_limit_a = None

    def report(self) -> DeviceReport:
        values, errors = self.store.report()
        return DeviceReport(
            self._name,
            "simulated",
            {"role": self.role, "plant": "hil.plant (in process)"},
            values,
            errors,
            self._health.snapshot(),
            self._capabilities.provided(),
        )

    def refuse(self, message: str, field: str) -> DriverConfigError:
        return DriverConfigError(f"{message}; nothing was changed", device=self._name, field=field)


_Facet = StoreFacet[SimulatedDevice]


class _Battery(_Facet):
    def soc_pct(self) -> Reading[float]:
        return self._number("soc_pct")

    def power_w(self) -> Reading[float]:
        return self._number("power_w")

    def limits(self) -> BatteryLimits:
        if self._d.limits.battery is None:
            raise DriverConfigError("no configured battery limits", device=self._d.name)
        return self._d.limits.battery

    async def set_power_w(self, power_w: float) -> None:
        lim = self.limits()
        if not -lim.max_discharge_w <= power_w <= lim.max_charge_w:
            raise self._d.refuse(
                f"battery power {power_w:g} W outside -{lim.max_discharge_w:g}..{lim.max_charge_w:g} W",
                "power_w",
            )
        self._d.home.battery_kw = power_w / 1000.0


class _Pv(_Facet):
    def power_w(self) -> Reading[float]:
        return self._number("power_w")

    def energy_kwh(self) -> Reading[float]:
        return self._number("energy_kwh")

    def rated_power_w(self) -> float:
        return self._d.limits.pv_rated_w or self._d.home.params.pv_peak_kw * 1000.0

    async def set_curtailment_limit_w(self, limit_w: float | None) -> None:
        rated = self._d.limits.pv_rated_w
        if rated is None:
            raise self._d.refuse("no configured rated power: curtailment refused", "curtailable")
        if limit_w is not None and not 0.0 <= limit_w <= rated:
            raise self._d.refuse(f"curtailment limit {limit_w:g} W outside 0..{rated:g} W", "limit_w")
        self._d.home.pv_limit_kw = None if limit_w is None else limit_w / 1000.0


class _Thermostat(_Facet):
    def indoor_c(self) -> Reading[float]:
        return self._number("indoor_c")

    def setpoint_c(self) -> Reading[float]:
        return self._number("setpoint_c")

    def mode(self) -> Reading[ThermostatMode]:
        r = self._d.store.get("mode")
        return Reading(ThermostatMode(r.value), r.unit, r.source, r.at, r.mono_s)

    async def set_setpoint_c(self, setpoint_c: float) -> None:
        band = self._d.limits.setpoint_c
        if band is None or not band[0] <= setpoint_c <= band[1]:
            raise self._d.refuse(
                f"setpoint {setpoint_c:g} °C outside the configured range {band}", "setpoint_c"
            )
        self._d.home.setpoint_c = setpoint_c

    async def set_mode(self, mode: ThermostatMode) -> None:
        plant = self._d.home.plant
        if mode not in (ThermostatMode.HEAT, ThermostatMode.COOL):
            raise self._d.refuse(f"the heat pump only heats or cools (asked {mode.value!r})", "mode")
        if plant is not None and plant.heat_pump is not None:
            plant.heat_pump.mode = "cooling" if mode is ThermostatMode.COOL else "heating"


class _WaterHeater(_Facet):
    def tank_c(self) -> Reading[float]:
        return self._number("tank_c")

    def element_on(self) -> Reading[bool]:
        return self._flag("element_on")

    async def set_element_on(self, on: bool) -> None:
        self._d.home.element_on = on


class _Ev(_Facet):
    def plugged(self) -> Reading[bool]:
        return self._flag("plugged")

    def charging(self) -> Reading[bool]:
        return self._flag("charging")

    def power_w(self) -> Reading[float]:
        return self._number("power_w")

    def current_limit_a(self) -> Reading[float]:
        return self._number("current_limit_a")

    def session_kwh(self) -> Reading[float]:
        return self._number("session_kwh")

    async def set_current_limit_a(self, current_a: float) -> None:
        bounds = self._d.limits.ev_current_a
        if bounds is None or not (current_a == 0.0 or bounds[0] <= current_a <= bounds[1]):
            raise self._d.refuse(f"current {current_a:g} A outside 0 or {bounds}", "current_a")
        self._d.home.ev_limit_a = current_a
