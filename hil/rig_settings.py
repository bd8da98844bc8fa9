"""Where the rig's emulated devices listen, and how it runs."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any, Literal

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class RigSettings:
    # Modbus servers bind here; "0.0.0.0" serves the LAN (``hems hil --bind``).
    bind_host: str = LOOPBACK
    # What the generated agent config calls the rig (None: bind_host, or loopback for 0.0.0.0).
    advertise_host: str | None = None
    meter_port: int = 0  # 0: a free port
    inverter_port: int = 0
    unit_id: int = 1
    # The MQTT broker the emulated devices connect to (None: no MQTT devices).
    broker_host: str | None = None
    broker_port: int = 1883
    thermostat_topic: str = "zigbee2mqtt/living_room"
    water_heater_topic: str = "shellyplus1pm-hil"
    evse_topic: str = "openevse-hil"
    # The weather-forecast provider's topics (<weather_topic>/temp_air_c, .../ghi_w_per_m2).
    weather_topic: str = "weather/hil"
    # How the agent switches the water heater: the Shelly over MQTT, or a relay on a GPIO pin.
    water_heater_link: Literal["mqtt", "gpio"] = "mqtt"
    relay_pin: int = 17
    relay_active_high: bool = True
    pin_factory: Any = None  # gpiozero factory shared with the agent; None: a new MockFactory
    # Clock seconds between rig updates, and the longest plant integration step.
    tick_s: float = 5.0
    max_step_s: float = 10.0
    publish_every_s: float = 10.0

    @property
    def host_for_clients(self) -> str:
        if self.advertise_host:
            return self.advertise_host
        return LOOPBACK if self.bind_host in ("0.0.0.0", "", "::") else self.bind_host
