"""What every configured device offers the agent, whatever its transport.

A device is built by the registry from its validated settings, then::

    await device.start()      # open links / subscribe; an absent device is not an error here
    await device.refresh()    # each cycle: poll now (Modbus) or check freshness (MQTT)
    device.capabilities.battery.soc_pct()   # synchronous reads of what refresh stored
    await device.stop()       # outputs to their safe state, links released

``refresh`` raises a :class:`~drivers.errors.DriverError` subclass when the device cannot be
read and records the outcome in ``device.health`` either way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, Protocol, TypeVar

from agent.clock import Clock
from drivers.base.capabilities import (
    Battery,
    BatteryLimits,
    EnergyMeter,
    EvCharger,
    PvInverter,
    Switch,
    Thermostat,
    WaterHeater,
)
from drivers.base.health import Health, HealthSnapshot
from drivers.base.reading import Reading


@dataclass(frozen=True, slots=True)
class Capabilities:
    """The capability objects a device provides; ``None`` means the device lacks it."""

    energy_meter: EnergyMeter | None = None
    pv_inverter: PvInverter | None = None
    battery: Battery | None = None
    thermostat: Thermostat | None = None
    water_heater: WaterHeater | None = None
    ev_charger: EvCharger | None = None
    switch: Switch | None = None

    def provided(self) -> tuple[str, ...]:
        return tuple(f.name for f in fields(self) if getattr(self, f.name) is not None)


@dataclass(frozen=True, slots=True)
class DeviceReport:
    """What ``hems probe`` and the status page show about one device."""

    device: str
    driver: str  # the config ``type``
    info: dict[str, str]  # identity and discovery results (SunSpec models, serial, topics)
    values: dict[str, Reading[Any]]  # latest readings by name (``power_w``, ``soc_pct``, ...)
    errors: dict[str, str]  # names whose value could not be had, with the reason
    health: HealthSnapshot
    capabilities: tuple[str, ...] = field(default_factory=tuple)


class Device(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def driver(self) -> str:
        """The config ``type`` this device was built from."""
        ...

    @property
    def health(self) -> Health: ...

    @property
    def capabilities(self) -> Capabilities: ...

    async def start(self) -> None: ...

    async def refresh(self) -> None: ...

    async def stop(self) -> None: ...

    def report(self) -> DeviceReport: ...


class DeviceIdentity:
    """The name, driver type, health and capabilities every driver's device exposes, kept in one
    place so each driver only assigns them (``_name``, ``_driver``, ``_health``,
    ``_capabilities``) in its constructor."""

    _name: str
    _driver: str
    _health: Health
    _capabilities: Capabilities

    @property
    def name(self) -> str:
        return self._name

    @property
    def driver(self) -> str:
        return self._driver

    @property
    def health(self) -> Health:
        return self._health

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities


class Link(Protocol):
    """A shared physical link (a Modbus bus, an MQTT broker connection)."""

    async def close(self) -> None: ...


L = TypeVar("L", bound=Link)


class LinkPool:
    """One owner per physical link, shared by every device on it.

    Keys name the link (``modbus-tcp:192.0.2.7:502``, ``modbus-rtu:/dev/ttyUSB0``,
    ``mqtt:broker.lan:1883``); the first device to ask creates it.
    """

    def __init__(self) -> None:
        self._links: dict[str, Link] = {}

    def get_or_create(self, key: str, kind: type[L], factory: Callable[[], L]) -> L:
        link = self._links.get(key)
        if link is None:
            created = factory()
            self._links[key] = created
            return created
        if not isinstance(link, kind):
            raise TypeError(f"link {key} is a {type(link).__name__}, not a {kind.__name__}")
        return link

    def keys(self) -> tuple[str, ...]:
        return tuple(self._links)

    async def close_all(self) -> None:
        links, self._links = list(self._links.values()), {}
        results = await asyncio.gather(*(link.close() for link in links), return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException) and not isinstance(r, Exception):
                raise r


@dataclass(frozen=True, slots=True)
class DeviceLimits:
    """The configured limits a driver checks every write against before sending anything.

    A limit left ``None`` means that kind of write is refused: a driver never writes a value it
    has no configured bound for.
    """

    battery: BatteryLimits | None = None
    pv_rated_w: float | None = None
    ev_current_a: tuple[float, float] | None = None  # (min, max) per phase; 0 (pause) is allowed
    ev_discharge_current_a: float | None = None  # V2G: largest discharge current per phase, a magnitude
    setpoint_c: tuple[float, float] | None = None  # (min, max)
    element_max_w: float | None = None


@dataclass
class DeviceContext:
    """What a driver factory gets besides its settings."""

    clock: Clock
    links: LinkPool = field(default_factory=LinkPool)
    limits: dict[str, DeviceLimits] = field(default_factory=dict)

    def limits_for(self, device: str) -> DeviceLimits:
        return self.limits.get(device, DeviceLimits())


async def stop_all(devices: list[Device], timeout_s: float = 5.0) -> None:
    """Stop devices concurrently, each bounded by ``timeout_s``; one failure stops no other."""

    async def one(d: Device) -> None:
        async with asyncio.timeout(timeout_s):
            await d.stop()

    await asyncio.gather(*(one(d) for d in devices), return_exceptions=True)
