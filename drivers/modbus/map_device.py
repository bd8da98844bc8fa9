"""The generic driver for register-map (non-SunSpec) devices."""

from __future__ import annotations

from dataclasses import dataclass

from agent.clock import Clock
from drivers.base import Capabilities, DeviceLimits
from drivers.errors import DriverConfigError, ProtocolError
from drivers.modbus.codec import decode, scaled, unscaled
from drivers.modbus.device import DEFAULT_STALE_AFTER_S, ModbusDevice
from drivers.modbus.facets import (
    BATTERY_POINTS,
    METER_POINTS,
    PHASE_POINTS,
    PV_POINTS,
    ModbusBattery,
    ModbusMeter,
    ModbusPhaseMeter,
    ModbusPv,
)
from drivers.modbus.link import MAX_READ_REGISTERS, ModbusLink, Table
from drivers.modbus.regmap import (
    PercentControl,
    Register,
    RegisterMap,
    ResolvedPoint,
    SignedControl,
    SplitControl,
)


@dataclass(frozen=True)
class ReadBlock:
    table: Table
    start: int
    count: int
    points: tuple[ResolvedPoint, ...]


def plan_blocks(points: list[ResolvedPoint], max_gap: int) -> list[ReadBlock]:
    """Group points into as few reads as the PDU limit and ``max_gap`` allow."""
    blocks: list[ReadBlock] = []
    for table in Table:
        group = sorted((p for p in points if p.table is table), key=lambda p: p.address)
        current: list[ResolvedPoint] = []
        for p in group:
            if current:
                start = current[0].address
                end = max(q.end for q in current)
                if p.address - end > max_gap or max(end, p.end) - start > MAX_READ_REGISTERS:
                    blocks.append(ReadBlock(table, start, end - start, tuple(current)))
                    current = []
            current.append(p)
        if current:
            start = current[0].address
            end = max(q.end for q in current)
            blocks.append(ReadBlock(table, start, end - start, tuple(current)))
    return blocks


class RegisterMapDevice(ModbusDevice):
    def __init__(
        self,
        name: str,
        driver: str,
        *,
        link: ModbusLink,
        unit_id: int,
        clock: Clock,
        limits: DeviceLimits,
        regmap: RegisterMap,
        stale_after_s: float = DEFAULT_STALE_AFTER_S,
    ) -> None:
        super().__init__(
            name, driver, link=link, unit_id=unit_id, clock=clock, limits=limits, stale_after_s=stale_after_s
        )
        self.regmap = regmap
        self._points = regmap.all_points()
        self._blocks = plan_blocks(self._points, regmap.max_gap)
        for p in self._points:
            self.store.declare(p.name, p.unit)
        self.info["register_map"] = regmap.name
        names = set(regmap.points)
        meter = None
        if set(METER_POINTS) <= names:
            meter = ModbusPhaseMeter(self.store) if set(PHASE_POINTS) <= names else ModbusMeter(self.store)
        self._capabilities = Capabilities(
            energy_meter=meter,
            pv_inverter=ModbusPv(self.store, self, limits) if set(PV_POINTS) <= names else None,
            battery=ModbusBattery(self.store, self, limits) if set(BATTERY_POINTS) <= names else None,
        )

    def _value(self, p: ResolvedPoint, regs: list[int]) -> float:
        value = scaled(decode(regs, p.type, p.word_order), p.scale, p.sign)
        if (p.min is not None and value < p.min) or (p.max is not None and value > p.max):
            # Out of the physically possible range: garbage (a meter rebooting returns such values).
            raise ProtocolError(
                f"{p.name} = {value:g} {p.unit} is outside {p.min}..{p.max}", device=self.name
            )
        return value

    async def _poll(self) -> None:
        problems: list[str] = []
        for block in self._blocks:
            regs = await self.link.read(self.unit_id, block.start, block.count, block.table)
            for p in block.points:
                offset = p.address - block.start
                try:
                    value = self._value(p, regs[offset : offset + p.type.registers])
                except ProtocolError as e:
                    problems.append(str(e))
                    continue
                self.store.set(p.name, value, p.unit, self.source(p.table, p.address))
        if problems:
            raise ProtocolError("; ".join(problems))

    def _control(self, name: str) -> object:
        control = self.regmap.controls.get(name)
        if control is None:
            raise DriverConfigError(
                f"register map {self.regmap.name} has no control {name!r}", device=self.name
            )
        return control

    async def _write(self, what: str, reg: Register, value: float) -> None:
        raw = unscaled(value, reg.scale, reg.type)
        await self.write_verified(what, reg.address, raw, reg.type, reg.word_order)

    async def write_curtailment_limit_w(self, limit_w: float | None) -> None:
        control = self._control("curtailment_limit_w")
        if not isinstance(control, PercentControl):
            raise DriverConfigError("curtailment control must be percent_of_rated", device=self.name)
        if limit_w is None:
            pct = control.off_pct
        else:
            rated_w = self.store.number(control.rated_point).value
            if rated_w <= 0:
                raise ProtocolError(f"rated power {rated_w:g} W cannot scale a limit", device=self.name)
            pct = min(control.off_pct, 100.0 * limit_w / rated_w)
        await self._write("curtailment limit", control, pct)
        self._commanded = self._commanded or limit_w is not None

    async def write_battery_power_w(self, power_w: float) -> None:
        control = self._control("battery_power_w")
        if isinstance(control, SignedControl):
            await self._write("battery power setpoint", control, power_w * control.sign)
        elif isinstance(control, SplitControl):
            if power_w > 0:
                await self._write("battery charge power", control.charge, power_w)
                await self._write("battery command", control.direction, control.direction.charge)
            elif power_w < 0:
                await self._write("battery discharge power", control.discharge, -power_w)
                await self._write("battery command", control.direction, control.direction.discharge)
            else:
                await self._write("battery command", control.direction, control.direction.idle)
        else:
            raise DriverConfigError("battery control must be signed or split", device=self.name)
        self._commanded = True

    async def _release(self) -> None:
        if "battery_power_w" in self.regmap.controls:
            control = self.regmap.controls["battery_power_w"]
            if isinstance(control, SplitControl):
                await self._write("battery command", control.direction, control.direction.idle)
            else:
                await self.write_battery_power_w(0.0)
        if "curtailment_limit_w" in self.regmap.controls:
            await self.write_curtailment_limit_w(None)
