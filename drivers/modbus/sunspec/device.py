"""The SunSpec driver: discovers the model chain once, then polls the models the agent uses.

Capabilities follow the models found: an inverter model (101-103, 111-113) gives a PV
inverter, a meter model (201-204, 211-214) an energy meter, storage (124) with a battery model
(802) a battery. They are known after the first successful refresh. Which point feeds which
value is in :mod:`drivers.modbus.sunspec.points`.

A unit may hold a model more than once (a SolarEdge inverter with a production and a
consumption meter: 1, 103, 1, 203, 1, 203). Every instance is listed in the device's info;
the first is used unless ``instances`` (``driver.sunspec_instances`` in the config) chooses
another, by its 1-based position among the instances of that model.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

from agent.clock import Clock
from drivers.base import Capabilities, DeviceLimits
from drivers.errors import DriverConfigError, ProtocolError
from drivers.modbus.codec import RegType, decode
from drivers.modbus.device import DEFAULT_STALE_AFTER_S, ModbusDevice
from drivers.modbus.facets import ModbusPhaseMeter, ModbusPv, SelfConsumptionBattery
from drivers.modbus.link import ModbusLink, Table
from drivers.modbus.sunspec.decode import ModelValues, decode_model, encode_scaled
from drivers.modbus.sunspec.discovery import BASE_ADDRESSES, ModelLocation, find_base, walk_models
from drivers.modbus.sunspec.families import (
    BATTERY,
    COMMON,
    CONTROLS,
    INVERTERS,
    METERS,
    MPPT,
    POLLED,
    STORAGE,
)
from drivers.modbus.sunspec.models import known_model, load_model
from drivers.modbus.sunspec.points import BY_MODEL, pv_reading


def _label(model_id: int) -> str:
    return f"{model_id} ({load_model(model_id).name})" if known_model(model_id) else str(model_id)


class SunSpecDevice(ModbusDevice):
    def __init__(
        self,
        name: str,
        driver: str,
        *,
        link: ModbusLink,
        unit_id: int,
        clock: Clock,
        limits: DeviceLimits,
        bases: tuple[int, ...] = BASE_ADDRESSES,
        stale_after_s: float = DEFAULT_STALE_AFTER_S,
        instances: Mapping[int, int] | None = None,
    ) -> None:
        super().__init__(
            name, driver, link=link, unit_id=unit_id, clock=clock, limits=limits, stale_after_s=stale_after_s
        )
        self._bases = bases
        self._instances = dict(instances or {})
        self._locations: list[ModelLocation] | None = None
        self.model_ids: frozenset[int] = frozenset()  # every model on the unit, once discovered
        self.models: dict[int, ModelValues] = {}

    async def _discover(self) -> None:
        base = await find_base(self.link, self.unit_id, self._bases)
        locations = await walk_models(self.link, self.unit_id, base)
        self.info["sunspec_base"] = str(base)
        chosen = self._choose(locations)
        notes = await self._instance_notes(locations)
        self.info["sunspec_models"] = ", ".join(
            self._describe(loc, locations, chosen, notes.get(loc.address)) for loc in locations
        )
        common = next((loc for loc in locations if loc.model_id == COMMON), None)
        if common is not None:
            values = await self._read_model(common)
            for key, point in (("manufacturer", "Mn"), ("model", "Md"), ("serial", "SN"), ("version", "Vr")):
                if values.has(point):
                    self.info[key] = str(values.get(point))
        ids = {loc.model_id for loc in locations}
        self.model_ids = frozenset(ids)
        limits = self._limits
        phase_meter = ModbusPhaseMeter(self.store) if ids & METERS else None
        self._capabilities = Capabilities(
            energy_meter=phase_meter,
            pv_inverter=ModbusPv(self.store, self, limits) if ids & INVERTERS else None,
            battery=SelfConsumptionBattery(self.store, self, limits) if {STORAGE, BATTERY} <= ids else None,
        )
        self._locations = [loc for loc in chosen.values() if loc.model_id in POLLED]

    def _choose(self, locations: list[ModelLocation]) -> dict[int, ModelLocation]:
        """One location per model id: the first, or the configured instance."""
        by_id: dict[int, list[ModelLocation]] = {}
        for loc in locations:
            by_id.setdefault(loc.model_id, []).append(loc)
        chosen = {model_id: locs[0] for model_id, locs in by_id.items()}
        for model_id, number in self._instances.items():
            locs = by_id.get(model_id, [])
            if not 1 <= number <= len(locs):
                where = ", ".join(str(loc.address) for loc in locs) or "none"
                raise DriverConfigError(
                    f"instance {number} of SunSpec model {model_id} asked for; the unit has "
                    f"{len(locs)} (at {where})",
                    device=self._name,
                    field=f"driver.sunspec_instances.{model_id}",
                )
            chosen[model_id] = locs[number - 1]
        return chosen

    async def _instance_notes(self, locations: list[ModelLocation]) -> dict[int, str]:
        """For a model present more than once: what the common model just before each says.

        A unit with two meters puts each behind its own common model, whose manufacturer and
        options (SolarEdge: "Export+Import", "Consumption") tell the installer which is which.
        """
        notes: dict[int, str] = {}
        counts: dict[int, int] = {}
        for loc in locations:
            counts[loc.model_id] = counts.get(loc.model_id, 0) + 1
        for before, loc in itertools.pairwise(locations):
            if loc.model_id == COMMON or counts[loc.model_id] < 2 or before.model_id != COMMON:
                continue
            common = await self._read_model(before)
            words = [str(common.get(p)) for p in ("Mn", "Md", "Opt") if common.has(p)]
            if words:
                notes[loc.address] = ", ".join(words)
        return notes

    @staticmethod
    def _describe(
        loc: ModelLocation, locations: list[ModelLocation], chosen: dict[int, ModelLocation], note: str | None
    ) -> str:
        same = [other for other in locations if other.model_id == loc.model_id]
        if len(same) == 1 or loc.model_id == COMMON:
            return _label(loc.model_id)
        number = same.index(loc) + 1
        used = "used" if chosen[loc.model_id] is loc else "not used"
        said = f"; {note}" if note else ""
        return f"{_label(loc.model_id)} #{number} at {loc.address} ({used}{said})"

    async def _read_model(self, loc: ModelLocation) -> ModelValues:
        model = load_model(loc.model_id)
        # A model with a repeating group (160's DC inputs) is read whole; others to the fixed block.
        length = loc.length if model.repeating is not None else min(loc.length, model.fixed_length)
        regs = await self.link.read(self.unit_id, loc.address, 2 + length)
        return decode_model(model, loc.address, regs)

    async def _poll(self) -> None:
        if self._locations is None:
            await self._discover()
        assert self._locations is not None
        problems: list[str] = []
        for loc in self._locations:
            values = await self._read_model(loc)
            self.models[loc.model_id] = values
            for ours, point, unit, convert, required in BY_MODEL.get(loc.model_id, ()):
                if not values.has(point):
                    if required:
                        problems.append(f"model {loc.model_id} point {point} not implemented")
                    continue
                self.store.set(
                    ours, convert(values.number(point)), unit, self.source(Table.HOLDING, loc.address)
                )
        self._store_pv()
        if problems:
            raise ProtocolError("; ".join(problems))

    def _store_pv(self) -> None:
        polled = {loc.model_id: self.models[loc.model_id] for loc in self._locations or ()}
        reading = pv_reading(polled)
        if reading is None:
            return
        address = min(loc.address for loc in self._locations or () if loc.model_id in INVERTERS | {MPPT})
        source = f"{self.source(Table.HOLDING, address)} ({reading.how})"
        self.info["pv_power_from"] = reading.how  # hems probe shows how PV was taken
        self.store.set("pv_power_w", reading.power_w, "W", source)
        if reading.energy_kwh is not None:
            self.store.set("pv_energy_kwh", reading.energy_kwh, "kWh", source)

    def _loc(self, model_id: int) -> ModelLocation:
        for loc in self._locations or ():
            if loc.model_id == model_id:
                return loc
        raise DriverConfigError(f"device has no SunSpec model {model_id}", device=self.name)

    async def _write_point(self, model_id: int, point: str, value: float) -> None:
        loc = self._loc(model_id)
        current = self.models.get(model_id) or await self._read_model(loc)
        model = load_model(model_id)
        p = model.point(point)
        regs = encode_scaled(model, current, point, value)
        reg_type = RegType.S16 if p.type in ("int16", "sunssf") else RegType.U16
        if len(regs) != 1:
            raise DriverConfigError(f"SunSpec point {point} is not a single register", device=self.name)
        await self.write_verified(
            f"SunSpec {model_id}.{point}", loc.address + p.offset, decode(regs, reg_type), reg_type
        )

    async def write_curtailment_limit_w(self, limit_w: float | None) -> None:
        if limit_w is None:
            await self._write_point(CONTROLS, "WMaxLim_Ena", 0)
            return
        base_w = self.store.number("pv_max_w").value if self.store.has("pv_max_w") else None
        if base_w is None or base_w <= 0:
            base_w = self.store.number("pv_rated_w").value
        await self._write_point(CONTROLS, "WMaxLimPct", min(100.0, 100.0 * limit_w / base_w))
        await self._write_point(CONTROLS, "WMaxLim_Ena", 1)
        self._commanded = True

    async def write_battery_power_w(self, power_w: float) -> None:
        max_w = self.store.number("battery_max_charge_w").value
        if max_w <= 0:
            raise ProtocolError(f"WChaMax {max_w:g} W cannot scale a setpoint", device=self.name)
        # StorCtl_Mod bit 0 limits charging to InWRte, bit 1 discharging to OutWRte (% of WChaMax);
        # both bits with both rates at 0 holds the battery idle.
        if power_w > 0:
            await self._write_point(STORAGE, "InWRte", 100.0 * power_w / max_w)
            await self._write_point(STORAGE, "StorCtl_Mod", 1)
        elif power_w < 0:
            await self._write_point(STORAGE, "OutWRte", 100.0 * -power_w / max_w)
            await self._write_point(STORAGE, "StorCtl_Mod", 2)
        else:
            await self._write_point(STORAGE, "InWRte", 0)
            await self._write_point(STORAGE, "OutWRte", 0)
            await self._write_point(STORAGE, "StorCtl_Mod", 3)
        self._commanded = True

    async def write_battery_window_w(self, lo_w: float, hi_w: float) -> None:
        max_w = self.store.number("battery_max_charge_w").value
        if max_w <= 0:
            raise ProtocolError(f"WChaMax {max_w:g} W cannot scale a window", device=self.name)
        # Both bits: the inverter's own self-consumption, charging at most InWRte and discharging
        # at most OutWRte (% of WChaMax).
        await self._write_point(STORAGE, "InWRte", min(100.0, 100.0 * hi_w / max_w))
        await self._write_point(STORAGE, "OutWRte", min(100.0, 100.0 * -lo_w / max_w))
        await self._write_point(STORAGE, "StorCtl_Mod", 3)
        self._commanded = True

    async def _release(self) -> None:
        ids = {loc.model_id for loc in self._locations or ()}
        if STORAGE in ids:
            await self._write_point(STORAGE, "StorCtl_Mod", 0)
        if CONTROLS in ids:
            await self._write_point(CONTROLS, "WMaxLim_Ena", 0)
