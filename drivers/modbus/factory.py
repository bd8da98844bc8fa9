"""Registry factory for ``modbus_tcp`` and ``modbus_rtu`` devices.

Devices on the same TCP endpoint or serial port share one :class:`ModbusLink` from the
context's link pool. The first device on a link sets its timing; a second device on the same
serial port with other line settings is a configuration error.
"""

from __future__ import annotations

from typing import Any

from agent.config.drivers import ModbusRtuDriver, ModbusTcpDriver
from drivers.base import Device, DeviceContext
from drivers.errors import DriverConfigError
from drivers.modbus.device import ModbusDevice
from drivers.modbus.link import LinkTiming, ModbusLink, RtuLink, TcpLink, rtu_frame_gap_s
from drivers.modbus.map_device import RegisterMapDevice
from drivers.modbus.regmap import load_map
from drivers.modbus.sunspec.device import SunSpecDevice


def _link(name: str, settings: ModbusTcpDriver | ModbusRtuDriver, ctx: DeviceContext) -> ModbusLink:
    if isinstance(settings, ModbusTcpDriver):
        timing = LinkTiming(request_timeout_s=settings.timeout_s)
        key = f"modbus-tcp:{settings.host}:{settings.port}"
        return ctx.links.get_or_create(
            key, TcpLink, lambda: TcpLink(settings.host, settings.port, ctx.clock, timing)
        )
    gap_s = settings.inter_frame_gap_s
    timing = LinkTiming(
        request_timeout_s=settings.timeout_s,
        frame_gap_s=rtu_frame_gap_s(settings.baudrate) if gap_s is None else gap_s,
    )
    link = ctx.links.get_or_create(
        f"modbus-rtu:{settings.port}",
        RtuLink,
        lambda: RtuLink(
            settings.port,
            ctx.clock,
            baudrate=settings.baudrate,
            parity=settings.parity,
            stopbits=settings.stopbits,
            timing=timing,
        ),
    )
    wanted = (settings.baudrate, settings.parity, settings.stopbits)
    if (link.baudrate, link.parity, link.stopbits) != wanted:
        raise DriverConfigError(
            f"serial port {settings.port} is already used at {link.baudrate} {link.parity} {link.stopbits}",
            device=name,
            field="driver.baudrate",
        )
    return link


def create_modbus_device(
    name: str, settings: ModbusTcpDriver | ModbusRtuDriver, ctx: DeviceContext
) -> ModbusDevice:
    link = _link(name, settings, ctx)
    common: dict[str, Any] = {
        "link": link,
        "unit_id": settings.unit_id,
        "clock": ctx.clock,
        "limits": ctx.limits_for(name),
        "stale_after_s": settings.stale_after_s,
    }
    if settings.sunspec:
        return SunSpecDevice(name, settings.type, instances=settings.sunspec_instances, **common)
    if settings.register_map is None:
        raise DriverConfigError(
            "give 'sunspec: true' or 'register_map'", device=name, field="driver.register_map"
        )
    try:
        regmap = load_map(settings.register_map)
    except DriverConfigError as e:
        raise DriverConfigError(str(e), device=name) from e
    return RegisterMapDevice(name, settings.type, regmap=regmap, **common)


def create_device(name: str, settings: Any, ctx: DeviceContext) -> Device:
    if not isinstance(settings, ModbusTcpDriver | ModbusRtuDriver):
        raise DriverConfigError(
            f"settings of type {type(settings).__name__} are not Modbus settings", device=name
        )
    return create_modbus_device(name, settings, ctx)
