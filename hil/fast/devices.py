"""The home's devices at the capability level, on the rig's plant and device logic, in process.

Each :class:`FastDevice` provides the capability the agent's config gives its role (the
``drivers.base`` protocols), so the agent's dispatcher, with its limits, safe rules and read-back,
drives it exactly as it drives the field drivers. Behind the capabilities sit the rig's own
device emulators, without their sockets: a write hands the emulator the command the field driver
would send (the Zigbee2MQTT setpoint, the Shelly RPC with its auto-off, the OpenEVSE claim, the
SunSpec storage and curtailment points), and ``refresh`` reads what the emulator and the plant
show, rounded as the wire carries it (W and Wh as integers, temperatures to 0.1 °C). So the
home's own control (the thermostat's band, the inverter's self-consumption window, the charger's
pilot) is the same code in both simulation modes.

Faults act where a driver would see them: ``gone`` (the device is off the network: every refresh
and write raises :class:`~drivers.errors.DeviceUnavailable`), ``garbage`` (refresh raises
:class:`~drivers.errors.ProtocolError`), ``silent`` (nothing new arrives: values age until
stale). Values go stale after three missed polls.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from typing import Any, Literal

from agent.clock import Clock
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
from drivers.errors import DeviceUnavailable, DriverConfigError, ProtocolError
from hil.fast.readings import READERS, Role
from hil.rig import Rig
from hil.store_facets import StoreFacet, StoreMeter

FaultState = Literal["gone", "garbage", "silent"]
# Three missed polls: one late round is not yet stale, a dead device is soon.
STALE_AFTER_POLLS = 3
STALE_AFTER_S = 180.0  # of the one-minute cycle
# The Shelly map's "on" carries toggle_after 600: the switch opens by itself unless renewed.
TOGGLE_AFTER_S = 600


class FastDevice(DeviceIdentity):
    def __init__(
        self, name: str, role: Role, rig: Rig, limits: DeviceLimits, clock: Clock, *,
        stale_after_s: float = STALE_AFTER_S,
    ) -> None:  # fmt: skip
        self._name = name
        self._driver = "fast"
        self.role = role
        self.rig = rig
        self.limits = limits
        self.fault: FaultState | None = None
        self._health = Health(name, clock, logging.getLogger(f"hil.fast.{name}"))
        self.store = ValueStore(clock, name, stale_after_s)
        self._capabilities = _capabilities(self)
        self._read: Callable[[], dict[str, tuple[Any, str]]] = READERS[role](rig)
        for value_name, (_, unit) in self._read().items():
            self.store.declare(value_name, unit)  # read before the first refresh: stale

    async def start(self) -> None:
        """Nothing to open."""

    async def refresh(self) -> None:
        with self._health.track():
            self.check_reachable()
            if self.fault == "garbage":
                raise ProtocolError("scale factor out of range", device=self._name)
            if self.fault == "silent":
                return
            src = f"fast:{self.role}"
            for value_name, (value, unit) in self._read().items():
                self.store.set(value_name, value, unit, src)

    def check_reachable(self) -> None:
        if self.fault == "gone":
            raise DeviceUnavailable("connection refused", device=self._name)

    async def stop(self) -> None:
        """Hand control back to the device's own logic, as the field drivers do on stop."""
        if self.fault == "gone":
            return
        rig = self.rig
        if self.role == "battery":
            rig.controls.accept(124, {"StorCtl_Mod": 0})
        elif self.role == "pv_inverter":
            rig.controls.accept(123, {"WMaxLim_Ena": 0})

    def report(self) -> DeviceReport:
        values, errors = self.store.report()
        info = {"role": self.role, "plant": "hil rig (in process)"}
        return DeviceReport(
            self._name, "fast", info, values, errors, self._health.snapshot(), self._capabilities.provided()
        )

    def refuse(self, message: str, field: str) -> DriverConfigError:
        return DriverConfigError(f"{message}; nothing was changed", device=self._name, field=field)

    def command(self, emulator: Any, topic: str, doc: Any) -> None:
        """Hand an emulated device the payload its field driver would publish."""
        self.check_reachable()
        payload = doc if isinstance(doc, str) else json.dumps(doc)
        emulator.handle(topic, payload.encode("utf-8"))


_Facet = StoreFacet[FastDevice]


class _Pv(_Facet):
    def power_w(self) -> Reading[float]:
        return self._number("power_w")

    def energy_kwh(self) -> Reading[float]:
        return self._number("energy_kwh")

    def rated_power_w(self) -> float:
        return self._d.limits.pv_rated_w or self._d.rig.controls.w_max_w

    async def set_curtailment_limit_w(self, limit_w: float | None) -> None:
        rated = self._d.limits.pv_rated_w
        if rated is None:
            raise self._d.refuse("no configured rated power: curtailment refused", "curtailable")
        if limit_w is not None and not 0.0 <= limit_w <= rated:
            raise self._d.refuse(f"curtailment limit {limit_w:g} W outside 0..{rated:g} W", "limit_w")
        self._d.check_reachable()
        c = self._d.rig.controls
        if limit_w is None:
            c.accept(123, {"WMaxLim_Ena": 0})
        else:
            c.accept(123, {"WMaxLimPct": round(1000.0 * limit_w / c.w_max_w) / 10.0, "WMaxLim_Ena": 1})


class _Battery(_Facet):
    def soc_pct(self) -> Reading[float]:
        return self._number("soc_pct")

    def power_w(self) -> Reading[float]:
        return self._number("power_w")

    def limits(self) -> BatteryLimits:
        if self._d.limits.battery is None:
            raise DriverConfigError("no configured battery limits", device=self._d.name)
        return self._d.limits.battery

    def _check(self, power_w: float, what: str) -> None:
        lim = self.limits()
        if not -lim.max_discharge_w <= power_w <= lim.max_charge_w:
            raise self._d.refuse(
                f"{what} {power_w:g} W outside -{lim.max_discharge_w:g}..{lim.max_charge_w:g} W", "power_w"
            )

    def _pct(self, power_w: float) -> float:
        return min(100.0, round(10000.0 * power_w / self._d.rig.controls.w_cha_max_w) / 100.0)

    async def set_power_w(self, power_w: float) -> None:
        self._check(power_w, "battery power")
        self._d.check_reachable()
        c = self._d.rig.controls
        if power_w > 0:
            c.accept(124, {"InWRte": self._pct(power_w), "StorCtl_Mod": 1})
        elif power_w < 0:
            c.accept(124, {"OutWRte": self._pct(-power_w), "StorCtl_Mod": 2})
        else:
            c.accept(124, {"InWRte": 0.0, "OutWRte": 0.0, "StorCtl_Mod": 3})

    async def set_power_window_w(self, lo_w: float, hi_w: float) -> None:
        if not lo_w <= 0.0 <= hi_w:
            raise self._d.refuse(f"battery window {lo_w:g}..{hi_w:g} W must hold 0", "window")
        self._check(lo_w, "battery window floor")
        self._check(hi_w, "battery window ceiling")
        self._d.check_reachable()
        self._d.rig.controls.accept(
            124, {"InWRte": self._pct(hi_w), "OutWRte": self._pct(-lo_w), "StorCtl_Mod": 3}
        )


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
        t = self._d.rig.thermostat
        self._d.command(t, f"{t.base}/set", {"occupied_heating_setpoint": setpoint_c})

    async def set_mode(self, mode: ThermostatMode) -> None:
        t = self._d.rig.thermostat
        self._d.command(t, f"{t.base}/set", {"system_mode": mode.value})


class _WaterHeater(_Facet):
    def tank_c(self) -> Reading[float]:
        return self._number("tank_c")

    def element_on(self) -> Reading[bool]:
        return self._flag("element_on")

    def element_power_w(self) -> Reading[float]:
        return self._number("element_power_w")

    async def set_element_on(self, on: bool) -> None:
        w = self._d.rig.water_heater
        if on:
            call = {"id": 1, "src": "hems", "method": "Switch.Set",
                    "params": {"id": 0, "on": True, "toggle_after": TOGGLE_AFTER_S}}  # fmt: skip
            self._d.command(w, f"{w.base}/rpc", call)
        else:
            self._d.command(w, f"{w.base}/command/switch:0", "off")


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

    def vehicle_soc_pct(self) -> Reading[float]:
        return self._number("vehicle_soc_pct")

    async def set_current_limit_a(self, current_a: float) -> None:
        bounds = self._d.limits.ev_current_a
        if bounds is None or not (current_a == 0.0 or bounds[0] <= current_a <= bounds[1]):
            raise self._d.refuse(f"current {current_a:g} A outside 0 or {bounds}", "current_a")
        e = self._d.rig.evse
        claim: dict[str, Any] = {"state": "disabled"}
        if current_a > 0:
            # The OpenEVSE map's write is integer: whole amps, rounded down (never above the request).
            claim = {"state": "active", "charge_current": math.floor(current_a)}
        self._d.command(e, f"{e.base}/claim/set", claim)


def _capabilities(d: FastDevice) -> Capabilities:
    role = d.role
    if role == "battery":
        return Capabilities(battery=_Battery(d))
    if role == "pv_inverter":
        return Capabilities(pv_inverter=_Pv(d))
    if role == "ev_charger":
        return Capabilities(ev_charger=_Ev(d))
    if role in ("thermostat", "heat_pump"):
        return Capabilities(thermostat=_Thermostat(d))
    if role == "water_heater":
        return Capabilities(water_heater=_WaterHeater(d))
    return Capabilities(energy_meter=StoreMeter(d))
