"""The rig: the plant behind emulated devices on real protocols, advanced on the injected clock.

::

    settings = RigSettings(broker_host="127.0.0.1", broker_port=1883)
    rig = Rig(SUMMER, clock=ScaledClock(start, speed=60), settings=settings)
    await rig.start()                 # Modbus servers, MQTT devices, GPIO input, the update task
    rig.write_config(path, state_dir=...)   # an agent config pointing at the rig (hems check-config clean)
    ...                               # the agent runs against it
    await rig.stop()

Every ``tick_s`` of the clock the rig integrates the plant up to ``clock.now()`` in steps of at
most ``max_step_s``, recomputing the devices' own control (thermostat, EVSE, inverter mode) before
each step, then refreshes the Modbus register images and publishes MQTT state. A clock jump
forward is integrated through; a jump back holds the plant until the clock catches up (plant
time never runs backwards). ``on_step`` callbacks see every step with the inputs it ran under.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from agent.clock import Clock
from hil.emulators.mqtt_base import MqttEmulator
from hil.emulators.mqtt_devices import OpenEvse, ShellyWaterHeater, Z2mThermostat
from hil.emulators.relay import RelayInput
from hil.emulators.sunspec_devices import (
    InverterControls,
    inverter_models,
    inverter_values,
    meter_models,
    meter_values,
)
from hil.emulators.sunspec_server import SunSpecImage, SunSpecServer
from hil.emulators.weather import WeatherService
from hil.errors import HilError
from hil.plant import HomeParams, Plant, PlantInputs, PlantStep, build_plant
from hil.plant.own_control import OwnControl
from hil.rig_config import agent_config
from hil.rig_settings import RigSettings, free_port

_log = logging.getLogger("hil.rig")

StepListener = Callable[[PlantStep, PlantInputs], None]
ModbusName = Literal["meter", "inverter"]
MqttName = Literal["thermostat", "water_heater", "ev_charger", "weather"]


class Rig:
    def __init__(
        self,
        params: HomeParams,
        *,
        clock: Clock,
        settings: RigSettings | None = None,
        start: datetime | None = None,
        days: int = 14,
    ) -> None:
        self.params = params
        self.clock = clock
        self.settings = s = settings or RigSettings()
        self.plant: Plant = build_plant(params, start or clock.now(), days=days)
        self.on_step: list[StepListener] = []
        # What each device does on its own; the agent's commands reach the plant through the
        # emulated devices below.
        self.own = OwnControl(params)
        self.controls = InverterControls(
            w_max_w=params.pv_peak_kw * 1000.0, w_cha_max_w=params.battery_charge_kw * 1000.0
        )
        self.relay: RelayInput | None = None
        if s.water_heater_link == "gpio":
            factory = s.pin_factory
            if factory is None:
                from gpiozero.pins.mock import MockFactory

                factory = MockFactory()
            self.relay = RelayInput(factory, s.relay_pin, active_high=s.relay_active_high)
        host = s.bind_host
        self.meter = SunSpecServer(
            "meter",
            SunSpecImage(meter_models()),
            host=host,
            port=s.meter_port or free_port(host),
            unit_id=s.unit_id,
        )
        self.inverter = SunSpecServer(
            "inverter",
            SunSpecImage(inverter_models(params)),
            host=host,
            port=s.inverter_port or free_port(host),
            unit_id=s.unit_id,
            on_write=self.controls.accept,
        )
        self.mqtt: dict[str, MqttEmulator] = {}
        if s.broker_host is not None:
            self._make_mqtt_devices(s.broker_host, s.broker_port)
        self._task: asyncio.Task[None] | None = None
        self._battery_kw = 0.0
        self._held_back = False
        self._refresh_images()

    # -- construction ---------------------------------------------------------------------------

    def _make_mqtt_devices(self, host: str, port: int) -> None:
        s, p, plant = self.settings, self.params, self.plant
        assert plant.house is not None
        assert plant.tank is not None
        assert plant.ev is not None
        house, tank, ev = plant.house, plant.tank, plant.ev
        every = s.publish_every_s
        self.thermostat = Z2mThermostat(
            host, port, s.thermostat_topic,
            indoor_c=lambda: house.indoor_c,
            setpoint_c=p.comfort_at(plant.now)[0],
            mode=p.mode_at(plant.now),
            heating_active=lambda: self._last_power("heat_pump") > 0.0,
            publish_every_s=every,
        )  # fmt: skip
        relay = self.relay
        self.water_heater = ShellyWaterHeater(
            host, port, s.water_heater_topic,
            tank_c=lambda: tank.tank_c,
            element_w=lambda: self._last_power("water_heater") * 1000.0,
            energy_wh=lambda: self.plant.energy_kwh["water_heater"] * 1000.0,
            relay=relay.closed if relay is not None else None,
            clock_s=self.clock.monotonic_s,
            publish_every_s=every,
        )  # fmt: skip
        self.evse = OpenEvse(
            host, port, s.evse_topic,
            max_current_a=min(32.0, p.ev_max_a),
            plugged=lambda: ev.plugged,
            power_w=lambda: self._last_power("ev") * 1000.0,
            session_wh=lambda: (ev.current.grid_kwh if ev.current else 0.0) * 1000.0,
            vehicle_soc_pct=lambda: ev.soc * 100.0,
            publish_every_s=every,
        )  # fmt: skip
        self.weather = WeatherService(host, port, s.weather_topic, weather=plant.weather, clock=self.clock)
        self.mqtt = {
            "thermostat": self.thermostat,
            "water_heater": self.water_heater,
            "ev_charger": self.evse,
            "weather": self.weather,
        }

    def _last_power(self, device: str) -> float:
        last = self.plant.last
        return last.powers_kw[device] if last is not None else 0.0

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.meter.start()
        await self.inverter.start()
        for dev in self.mqtt.values():
            await dev.start()
        self.advance()
        self._publish(force=True)
        self._task = asyncio.create_task(self._run(), name="hil-rig")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for dev in self.mqtt.values():
            await dev.close()
        await self.meter.stop()
        await self.inverter.stop()

    async def __aenter__(self) -> Rig:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _run(self) -> None:
        while True:
            await self.clock.sleep(self.settings.tick_s)
            try:
                self.advance()
                self._publish()
            except HilError as e:  # a bad step must not kill the rig; it shows in the log
                _log.error("rig update failed: %s", e)

    # -- the plant loop -------------------------------------------------------------------------

    def inputs(self) -> PlantInputs:
        """What the devices ask of the plant now (their own control applied to the agent's commands)."""
        plant, own = self.plant, self.own
        hp_kw = 0.0
        if self.mqtt:
            system_mode = self.thermostat.system_mode
            if plant.heat_pump is not None and system_mode in ("heat", "cool"):
                # the heat pump works in the mode its thermostat was put in
                plant.heat_pump.mode = "cooling" if system_mode == "cool" else "heating"
            if system_mode != "off":
                hp_kw = own.heat_pump_kw(plant, self.thermostat.setpoint_c)
        else:
            hp_kw = own.heat_pump_kw(plant)
        # The tank thermostat follows the tank whoever switches the element.
        thermostat_on = own.tank_element_on(plant)
        if self.relay is not None:
            element_on = self.relay.closed()
        elif self.mqtt:
            element_on = self.water_heater.output
        else:
            element_on = thermostat_on
        return PlantInputs(
            heat_pump_kw=hp_kw,
            element_on=element_on,
            battery_kw=self.controls.battery_setpoint_kw(),
            battery_window_kw=self.controls.battery_window_kw(),
            ev_limit_a=self.evse.offered_a() if self.mqtt else own.ev_limit_a,
            pv_limit_kw=self.controls.pv_limit_kw(),
        )

    def advance(self, *, images: bool = True) -> list[PlantStep]:
        """Integrate the plant up to the clock's now; refresh the Modbus images (unless nothing
        reads them: the virtual-time simulation's devices read the plant)."""
        until = self.clock.now()
        if until < self.plant.now:
            if not self._held_back:
                _log.warning("clock went back to %s; plant holds at %s", until, self.plant.now)
                self._held_back = True
            return []
        self._held_back = False
        steps: list[PlantStep] = []
        while (left_s := (until - self.plant.now).total_seconds()) > 1e-6:
            inputs = self.inputs()
            step = self.plant.step(min(left_s, self.settings.max_step_s), inputs)
            self._battery_kw = step.powers_kw["battery"]
            steps.append(step)
            for listener in self.on_step:
                listener(step, inputs)
        if images:
            self._refresh_images()
        return steps

    def _refresh_images(self) -> None:
        plant = self.plant
        grid_kw = plant.last.grid_kw if plant.last is not None else 0.0
        self.meter.image.update(203, meter_values(grid_kw, plant.meter.import_kwh, plant.meter.export_kwh))
        for model_id, values in inverter_values(plant, self._battery_kw).items():
            self.inverter.image.update(model_id, values)

    def _publish(self, *, force: bool = False) -> None:
        now_s = self.clock.monotonic_s()
        for dev in self.mqtt.values():
            dev.publish_state(now_s, force=force)

    # -- the agent's side -----------------------------------------------------------------------

    def agent_config(
        self, *, state_dir: Path, broker_name: str = "rig", site_id: str = "hil-home"
    ) -> dict[str, Any]:
        return agent_config(self, state_dir=state_dir, broker_name=broker_name, site_id=site_id)

    def write_config(
        self, path: Path, *, state_dir: Path, broker_name: str = "rig", site_id: str = "hil-home"
    ) -> Path:
        import yaml

        doc = self.agent_config(state_dir=state_dir, broker_name=broker_name, site_id=site_id)
        header = "# Written by the hems HIL rig: an agent config pointing at the rig's emulated devices.\n"
        path.write_text(header + yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        return path

    # -- faults ---------------------------------------------------------------------------------

    def _modbus(self, name: ModbusName) -> SunSpecServer:
        return self.meter if name == "meter" else self.inverter

    async def modbus_gone(self, name: ModbusName) -> None:
        """The device drops off the network (connection refused)."""
        await self._modbus(name).stop()

    async def modbus_back(self, name: ModbusName) -> None:
        await self._modbus(name).start()

    def modbus_garbage(self, name: ModbusName, on: bool = True) -> None:
        """The device answers every read with garbage (scale factors out of range)."""
        self._modbus(name).fault = "garbage" if on else None

    def mqtt_silent(self, name: MqttName, on: bool = True) -> None:
        """The device stops publishing but stays connected (values go stale at the agent)."""
        self.mqtt[name].silent = on

    async def mqtt_drop(self, name: MqttName) -> None:
        """The device loses power: its connection breaks and the broker publishes its last will."""
        await self.mqtt[name].stop()

    async def mqtt_back(self, name: MqttName) -> None:
        dev = self.mqtt[name]
        dev.silent = False
        await dev.start()
        dev.publish_state(self.clock.monotonic_s(), force=True)
