"""Driver blocks: how the agent talks to a device (``driver.type`` picks one)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from agent.config.base import Check, Finding, Strict
from agent.config.types import Identifier, NonEmpty, Port, Seconds

DRIVER_TYPES = ("modbus_tcp", "modbus_rtu", "mqtt", "gpio_relay", "simulated")


def _one_map(v: Mapping[str, Any]) -> Finding | None:
    if bool(v["sunspec"]) == (v["register_map"] is not None):
        return (
            "register_map",
            "give exactly one of 'sunspec: true' (device speaks SunSpec) or 'register_map: NAME'",
        )
    return None


def _instances_need_sunspec(v: Mapping[str, Any]) -> Finding | None:
    if v["sunspec_instances"] and not v["sunspec"]:
        return "sunspec_instances", "is only allowed with 'sunspec: true'"
    return None


def _window_fits(v: Mapping[str, Any]) -> Finding | None:
    on_off_s = v["min_on_s"] + v["min_off_s"]
    if on_off_s > v["window_s"]:
        return (
            "window_s",
            f"must be >= min_on_s + min_off_s = {on_off_s:g} s (got {v['window_s']:g}), "
            "otherwise no fraction between on and off can be realised",
        )
    return None


SunSpecModelId = Annotated[int, Field(ge=1, le=65534)]
InstanceNumber = Annotated[int, Field(ge=1, le=64)]


class _ModbusMap(Strict):
    checks: ClassVar[tuple[Check, ...]] = (_one_map, _instances_need_sunspec)
    sunspec: bool = False
    register_map: Identifier | None = None
    # A unit holding a SunSpec model more than once (an inverter with a production and a
    # consumption meter): which instance to use, by model id, counted from 1 in map order.
    # `hems probe` lists the instances. Unlisted models use their first instance.
    sunspec_instances: dict[SunSpecModelId, InstanceNumber] = Field(default_factory=dict)
    # A value read longer ago than this is stale (an error, never a number); a slow RTU bus
    # with many devices polls each one less often and may need more.
    stale_after_s: Seconds = 120.0


class ModbusTcpDriver(_ModbusMap):
    type: Literal["modbus_tcp"]
    host: NonEmpty
    port: Port = 502
    unit_id: Annotated[int, Field(ge=0, le=255)] = 1
    timeout_s: Seconds = 1.0


class ModbusRtuDriver(_ModbusMap):
    type: Literal["modbus_rtu"]
    port: NonEmpty
    baudrate: Literal[1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200] = 9600
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    unit_id: Annotated[int, Field(ge=1, le=247)] = 1
    timeout_s: Seconds = 1.0
    # None: the Modbus RTU rule of 3.5 character times, computed from the baud rate.
    inter_frame_gap_s: Annotated[float, Field(ge=0.0, le=1.0)] | None = None


class MqttDriver(Strict):
    type: Literal["mqtt"]
    broker: Identifier
    topic_map: Identifier
    base_topic: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^#+\s]+$")]
    stale_after_s: Seconds = 60.0


class GpioRelayDriver(Strict):
    checks: ClassVar[tuple[Check, ...]] = (_window_fits,)
    type: Literal["gpio_relay"]
    # BCM numbering: the numbers printed as GPIOn on Raspberry Pi pin-outs.
    pin: Annotated[int, Field(ge=0, le=27)]
    active_high: bool = True
    min_on_s: Annotated[float, Field(ge=0.0, le=86_400.0)] = 60.0
    min_off_s: Annotated[float, Field(ge=0.0, le=86_400.0)] = 60.0
    # Time-proportioning window: a fraction p of the planned power means on for p * window_s.
    window_s: Seconds = 600.0


def _rig_installed(v: Mapping[str, Any]) -> Finding | None:
    # A gateway installs the agent without its test rig, which holds the simulated home.
    from drivers.registry import unavailable

    missing = unavailable("simulated")
    return ("type", missing) if missing is not None else None


class SimulatedDriver(Strict):
    checks: ClassVar[tuple[Check, ...]] = (_rig_installed,)
    type: Literal["simulated"]


Driver = Annotated[
    ModbusTcpDriver | ModbusRtuDriver | MqttDriver | GpioRelayDriver | SimulatedDriver,
    Field(discriminator="type"),
]
