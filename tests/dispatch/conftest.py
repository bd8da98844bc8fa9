"""A home with one device of each controllable kind, fake outputs that record writes, and a
snapshot builder: the inputs of the table-driven dispatch tests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from agent.clock import Clock, ManualClock
from agent.config.loader import parse_config
from agent.config.model import Config
from agent.dispatch import Dispatcher, DispatchSettings, Sample, Snapshot
from drivers.base import BatteryLimits, Capabilities, DeviceReport, Health, Reading, ThermostatMode
from drivers.errors import StaleValue

HOME_YAML = """
site: {id: home-1, timezone: Europe/Berlin, latitude: 52.5, longitude: 13.4}
mqtt_brokers: {local: {host: 127.0.0.1}}
devices:
  grid:
    role: meter
    import_max_kw: 6
    export_max_kw: 4
    driver: {type: modbus_tcp, host: 127.0.0.1, port: 1502, sunspec: true}
  pv:
    role: pv_inverter
    peak_kw: 8
    curtailable: true
    driver: {type: modbus_tcp, host: 127.0.0.1, port: 1502, sunspec: true}
  battery:
    role: battery
    capacity_kwh: 10
    charge_max_kw: 5
    discharge_max_kw: 5
    soc_min: 0.05
    soc_max: 0.95
    reserve_soc: 0.2
    driver: {type: modbus_tcp, host: 127.0.0.1, port: 1502, sunspec: true}
  ev:
    role: ev_charger
    max_kw: 11
    min_kw: 4.1
    phases: 3
    voltage_v: 230
    departure_time: "07:00"
    target_soc: 0.8
    battery_kwh: 60
    driver: {type: mqtt, broker: local, topic_map: openevse, base_topic: evse}
  heat_pump:
    role: heat_pump
    electric_max_kw: 3
    cop: 3.5
    house: {r_k_per_kw: 6, c_kwh_per_k: 10}
    comfort: {target_c: 21, band_c: 1}
    driver: {type: mqtt, broker: local, topic_map: zigbee2mqtt_thermostat, base_topic: z2m/trv}
  boost:
    role: heat_pump
    electric_max_kw: 3
    cop: 3.5
    house: {r_k_per_kw: 6, c_kwh_per_k: 10}
    driver: {type: gpio_relay, pin: 22, min_on_s: 60, min_off_s: 60, window_s: 600}
  tank:
    role: water_heater
    tank_l: 200
    element_kw: 3
    driver: {type: mqtt, broker: local, topic_map: shelly_water_heater, base_topic: shelly}
  tank2:
    role: water_heater
    tank_l: 150
    element_kw: 2
    driver: {type: gpio_relay, pin: 17, min_on_s: 60, min_off_s: 60, window_s: 600}
"""

T0 = datetime(2026, 1, 15, 21, 0, tzinfo=UTC)  # 22:00 in Berlin: 9 h to a 07:00 departure


def home_config(yaml_text: str = HOME_YAML) -> Config:
    return parse_config(yaml_text, env={})


class FakeOutputs:
    """Every capability's setters (recording) and getters (what was last written)."""

    def __init__(self, name: str, clock: Clock) -> None:
        self.name = name
        self._clock = clock
        self.writes: list[tuple[str, Any]] = []
        self.values: dict[str, Any] = {}
        self.fail_with: Exception | None = None
        self.delay_s = 0.0

    def _get(self, key: str) -> Reading[Any]:
        if key not in self.values:
            raise StaleValue(f"{key} has not been received yet", device=self.name)
        return Reading(self.values[key], "", "fake", self._clock.now(), self._clock.monotonic_s())

    async def _set(self, key: str, value: Any) -> None:
        if self.delay_s:
            import asyncio

            await asyncio.sleep(self.delay_s)
        if self.fail_with is not None:
            raise self.fail_with
        self.writes.append((key, value))
        self.values[key] = value

    # battery / meter / pv
    def soc_pct(self) -> Reading[float]:
        return self._get("soc_pct")

    def power_w(self) -> Reading[float]:
        return self._get("power_w")

    def import_kwh(self) -> Reading[float]:
        return self._get("import_kwh")

    def export_kwh(self) -> Reading[float]:
        return self._get("export_kwh")

    def energy_kwh(self) -> Reading[float]:
        return self._get("energy_kwh")

    def rated_power_w(self) -> float:
        return 8000.0

    def limits(self) -> BatteryLimits:
        return BatteryLimits(10.0, 5000.0, 5000.0, 5.0, 95.0)

    async def set_power_w(self, power_w: float) -> None:
        await self._set("battery_power_w", power_w)

    async def set_curtailment_limit_w(self, limit_w: float | None) -> None:
        await self._set("curtail_limit_w", limit_w)

    # ev
    def plugged(self) -> Reading[bool]:
        return self._get("plugged")

    def charging(self) -> Reading[bool]:
        return self._get("charging")

    def current_limit_a(self) -> Reading[float]:
        return self._get("current_limit_a")

    def session_kwh(self) -> Reading[float]:
        return self._get("session_kwh")

    async def set_current_limit_a(self, current_a: float) -> None:
        await self._set("current_limit_a", current_a)

    # thermostat
    def indoor_c(self) -> Reading[float]:
        return self._get("indoor_c")

    def setpoint_c(self) -> Reading[float]:
        return self._get("setpoint_c")

    def mode(self) -> Reading[ThermostatMode]:
        return self._get("mode")

    async def set_setpoint_c(self, setpoint_c: float) -> None:
        await self._set("setpoint_c", setpoint_c)

    # water heater / switch
    def tank_c(self) -> Reading[float]:
        return self._get("tank_c")

    def element_on(self) -> Reading[bool]:
        return self._get("element_on")

    async def set_element_on(self, on: bool) -> None:
        await self._set("element_on", on)

    def is_on(self) -> Reading[bool]:
        return self._get("on")

    async def set_on(self, on: bool) -> None:
        await self._set("on", on)


class FakeDutyRelay(FakeOutputs):
    async def set_duty(self, fraction: float) -> None:
        await self._set("duty", fraction)


class FakeElementPower(FakeOutputs):
    def element_power_w(self) -> Reading[float]:
        return self._get("element_power_w")

    async def set_element_power_w(self, power_w: float) -> None:
        await self._set("element_power_w", power_w)


class FakeDevice:
    def __init__(self, name: str, caps: Capabilities, clock: Clock) -> None:
        self._name = name
        self._caps = caps
        self._health = Health(name, clock)

    @property
    def name(self) -> str:
        return self._name

    @property
    def driver(self) -> str:
        return "fake"

    @property
    def health(self) -> Health:
        return self._health

    @property
    def capabilities(self) -> Capabilities:
        return self._caps

    async def start(self) -> None:
        return None

    async def refresh(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def report(self) -> DeviceReport:
        raise NotImplementedError


class FakeWindowedBattery(FakeOutputs):
    """A battery whose inverter follows the home itself within a window (WindowedBattery)."""

    async def set_power_window_w(self, lo_w: float, hi_w: float) -> None:
        await self._set("battery_window_w", (lo_w, hi_w))


def fake_home(
    clock: Clock, *, duty_relays: bool = False, windowed_battery: bool = False
) -> tuple[dict[str, FakeDevice], dict[str, FakeOutputs]]:
    outs: dict[str, FakeOutputs] = {
        "grid": FakeOutputs("grid", clock),
        "pv": FakeOutputs("pv", clock),
        "battery": (FakeWindowedBattery if windowed_battery else FakeOutputs)("battery", clock),
        "ev": FakeOutputs("ev", clock),
        "heat_pump": FakeOutputs("heat_pump", clock),
        "boost": (FakeDutyRelay if duty_relays else FakeOutputs)("boost", clock),
        "tank": FakeOutputs("tank", clock),
        "tank2": (FakeDutyRelay if duty_relays else FakeOutputs)("tank2", clock),
    }
    o = outs
    caps = {
        "grid": Capabilities(energy_meter=o["grid"]),
        "pv": Capabilities(pv_inverter=o["pv"]),
        "battery": Capabilities(battery=o["battery"]),
        "ev": Capabilities(ev_charger=o["ev"]),
        "heat_pump": Capabilities(thermostat=o["heat_pump"]),
        "boost": Capabilities(switch=o["boost"]),
        "tank": Capabilities(water_heater=o["tank"]),
        "tank2": Capabilities(switch=o["tank2"]),
    }
    return {n: FakeDevice(n, c, clock) for n, c in caps.items()}, outs


# A normal evening: every value fresh, nothing special.
NORMAL: dict[str, dict[str, Any]] = {
    "grid": {"meter.power_w": 500.0},
    "pv": {"pv.power_w": 0.0},
    "battery": {"battery.soc_pct": 50.0, "battery.power_w": 0.0},
    "ev": {"ev.plugged": True, "ev.current_limit_a": 0.0, "ev.vehicle_soc_pct": 50.0},
    "heat_pump": {"thermostat.indoor_c": 20.5, "thermostat.setpoint_c": 20.0},
    "boost": {"switch.on": False},
    "tank": {"water_heater.tank_c": 50.0, "water_heater.element_on": False},
    "tank2": {"switch.on": False},
}


def snapshot(
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    stale: Mapping[str, tuple[str, ...]] | None = None,
    at: datetime = T0,
    mono_s: float = 1000.0,
) -> Snapshot:
    """NORMAL with ``overrides`` applied; ``stale`` names values to leave out as stale."""
    values = {d: dict(q) for d, q in NORMAL.items()}
    for d, q in (overrides or {}).items():
        values.setdefault(d, {}).update(q)
    problems: dict[str, dict[str, str]] = {}
    for dev, names in (stale or {}).items():
        for name in names:
            values.get(dev, {}).pop(name, None)
            problems.setdefault(dev, {})[name] = "130.0 s old (limit 120 s)"
    samples = {d: {q: Sample(v, "", 1.0) for q, v in qs.items()} for d, qs in values.items()}
    return Snapshot(at, mono_s, samples, problems)


def dispatcher(
    clock: ManualClock | None = None, **settings: Any
) -> tuple[Dispatcher, dict[str, FakeOutputs]]:
    clock = clock or ManualClock(T0)
    duty = bool(settings.pop("duty_relays", False))
    windowed = bool(settings.pop("windowed_battery", False))
    devices, outs = fake_home(clock, duty_relays=duty, windowed_battery=windowed)
    return Dispatcher(home_config(), devices, clock, DispatchSettings(**settings)), outs
