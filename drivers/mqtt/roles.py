"""Capability views of an :class:`MqttDevice`: thin adapters from the base protocols to map values.

The value names are those the topic map must define for its capability (``topicmap.REQUIRED_*``),
so these classes only forward; all I/O and checking lives in the device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drivers.base import Capabilities, Reading, ThermostatMode
from drivers.mqtt.topicmap import DISCHARGE_WRITE

if TYPE_CHECKING:
    from drivers.mqtt.device import MqttDevice


class _Role:
    def __init__(self, device: MqttDevice) -> None:
        self._device = device


class MqttEnergyMeter(_Role):
    def import_kwh(self) -> Reading[float]:
        return self._device.float_reading("import_kwh")

    def export_kwh(self) -> Reading[float]:
        return self._device.float_reading("export_kwh")

    def power_w(self) -> Reading[float]:
        return self._device.float_reading("power_w")


class MqttThermostat(_Role):
    def indoor_c(self) -> Reading[float]:
        return self._device.float_reading("indoor_c")

    def setpoint_c(self) -> Reading[float]:
        return self._device.float_reading("setpoint_c")

    def mode(self) -> Reading[ThermostatMode]:
        r = self._device.str_reading("mode")
        return Reading(ThermostatMode(r.value), r.unit, r.source, r.at, r.mono_s)

    async def set_setpoint_c(self, setpoint_c: float) -> None:
        await self._device.write("setpoint_c", setpoint_c)


class MqttModeThermostat(MqttThermostat):
    """A thermostat whose map also writes its system mode (satisfies ``ModeSwitching``)."""

    async def set_mode(self, mode: ThermostatMode) -> None:
        await self._device.write("mode", mode.value)


class MqttWaterHeater(_Role):
    def tank_c(self) -> Reading[float]:
        return self._device.float_reading("tank_c")

    def element_on(self) -> Reading[bool]:
        return self._device.bool_reading("element_on")

    async def set_element_on(self, on: bool) -> None:
        await self._device.write("element_on", on)


class MqttMeteredWaterHeater(MqttWaterHeater):
    """A switched water heater whose switch also meters power (satisfies ``MeteredElement``)."""

    def element_power_w(self) -> Reading[float]:
        return self._device.float_reading("element_power_w")


class MqttEvCharger(_Role):
    def plugged(self) -> Reading[bool]:
        return self._device.bool_reading("plugged")

    def charging(self) -> Reading[bool]:
        return self._device.bool_reading("charging")

    def power_w(self) -> Reading[float]:
        return self._device.float_reading("power_w")

    def current_limit_a(self) -> Reading[float]:
        return self._device.float_reading("current_limit_a")

    def session_kwh(self) -> Reading[float]:
        return self._device.float_reading("session_kwh")

    async def set_current_limit_a(self, current_a: float) -> None:
        await self._device.write("current_limit_a", current_a)


class MqttEvChargerWithSoc(MqttEvCharger):
    """An EV charger that learns the vehicle's SoC (satisfies ``VehicleSoc``)."""

    def vehicle_soc_pct(self) -> Reading[float]:
        return self._device.float_reading("vehicle_soc_pct")


class MqttBidirectionalCharger(MqttEvCharger):
    """A charger whose map has a discharge write (satisfies ``BidirectionalCharger``)."""

    async def set_signed_current_a(self, current_a: float) -> None:
        if current_a < 0:
            await self._device.write(DISCHARGE_WRITE, current_a)
        else:
            await self._device.write("current_limit_a", current_a)


class MqttBidirectionalChargerWithSoc(MqttBidirectionalCharger, MqttEvChargerWithSoc):
    pass


def capabilities_for(device: MqttDevice) -> Capabilities:
    kind = device.topic_map.capability
    if kind == "meter":
        return Capabilities(energy_meter=MqttEnergyMeter(device))
    if kind == "thermostat":
        switching = "mode" in device.topic_map.writes
        return Capabilities(thermostat=MqttModeThermostat(device) if switching else MqttThermostat(device))
    if kind == "water_heater":
        metered = "element_power_w" in device.topic_map.values
        return Capabilities(
            water_heater=MqttMeteredWaterHeater(device) if metered else MqttWaterHeater(device)
        )
    with_soc = "vehicle_soc_pct" in device.topic_map.values
    kind_of = {
        (False, False): MqttEvCharger,
        (True, False): MqttEvChargerWithSoc,
        (False, True): MqttBidirectionalCharger,
        (True, True): MqttBidirectionalChargerWithSoc,
    }
    return Capabilities(ev_charger=kind_of[with_soc, DISCHARGE_WRITE in device.topic_map.writes](device))
