"""Which SunSpec point feeds which of our values (docs/sunspec.md has the table for users).

Most values are one point, converted: ``203.TotWhImp`` (Wh) is ``import_kwh``. PV power is
derived, because an inverter's AC output (``103.W``) is PV power only when no battery sits on
its DC side. A hybrid inverter's AC output is PV minus what the battery takes, so PV comes from
the DC side, in this order:

1. model 160 (multiple MPPT): the sum of ``DCW`` over the PV inputs. Hybrids report the battery
   as inputs of model 160 too, named by ``IDStr`` "StCha ..." and "StDisCha ..." (Fronius
   GEN24): those are not PV;
2. with a battery model (802) on the unit: ``103.DCW`` (the DC power into the inverter's bridge,
   PV minus the battery's charge) plus the battery's power (+charging);
3. with a battery model but no DC reading: ``103.W`` plus the battery's power, which counts the
   bridge's conversion loss (a few percent) as PV not produced;
4. otherwise (a PV-only inverter): ``103.W``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from drivers.modbus.sunspec.decode import ModelValues, PointValues
from drivers.modbus.sunspec.families import (
    BATTERY,
    CONTROLS,
    INVERTERS,
    METERS,
    MPPT,
    NAMEPLATE,
    SETTINGS,
    STORAGE,
)

# Model 160 inputs that carry the battery (charge, discharge) rather than a PV string.
STORAGE_INPUT_PREFIXES = ("StCha", "StDisCha")


def _kwh(wh: float) -> float:
    return wh / 1000.0


def _same(x: float) -> float:
    return x


def _negated(x: float) -> float:
    return -x


# model family -> (our name, SunSpec point, unit, conversion, required)
PointMap = tuple[str, str, str, Callable[[float], float], bool]
_INVERTER: tuple[PointMap, ...] = (
    ("pv_ac_power_w", "W", "W", _same, True),
    ("pv_energy_kwh", "WH", "kWh", _kwh, True),
    ("pv_dc_power_w", "DCW", "W", _same, False),
)
_METER: tuple[PointMap, ...] = (
    # SunSpec meters count real power positive when it flows from the grid into the premises.
    ("power_w", "W", "W", _same, True),
    ("import_kwh", "TotWhImp", "kWh", _kwh, True),
    ("export_kwh", "TotWhExp", "kWh", _kwh, True),
    ("frequency_hz", "Hz", "Hz", _same, False),
    *((f"l{i}_power_w", f"Wph{p}", "W", _same, False) for i, p in ((1, "A"), (2, "B"), (3, "C"))),
    *((f"l{i}_current_a", f"Aph{p}", "A", _same, False) for i, p in ((1, "A"), (2, "B"), (3, "C"))),
    *((f"l{i}_voltage_v", f"PhVph{p}", "V", _same, False) for i, p in ((1, "A"), (2, "B"), (3, "C"))),
)
BY_MODEL: dict[int, tuple[PointMap, ...]] = {
    **dict.fromkeys(INVERTERS, _INVERTER),
    **dict.fromkeys(METERS, _METER),
    NAMEPLATE: (("pv_rated_w", "WRtg", "W", _same, False),),
    SETTINGS: (("pv_max_w", "WMax", "W", _same, False),),
    CONTROLS: (("curtailment_pct", "WMaxLimPct", "%", _same, False),),
    STORAGE: (
        ("battery_soc_pct", "ChaState", "%", _same, True),
        ("battery_max_charge_w", "WChaMax", "W", _same, False),
    ),
    # Model 802 counts W as DER output: positive while discharging. Ours is +charging.
    BATTERY: (("battery_power_w", "W", "W", _negated, True),),
}


@dataclass(frozen=True, slots=True)
class PvReading:
    power_w: float
    energy_kwh: float | None  # None: the inverter's own WH stands
    how: str  # which points, for the value's source


def is_pv_input(module: PointValues) -> bool:
    name = str(module.values.get("IDStr", ""))
    return not name.startswith(STORAGE_INPUT_PREFIXES)


def _from_mppt(mppt: ModelValues) -> PvReading | None:
    inputs = [m for m in mppt.repeats if is_pv_input(m) and m.has("DCW")]
    if not inputs:
        return None
    energy = None
    if all(m.has("DCWH") for m in inputs):
        energy = sum(m.number("DCWH") for m in inputs) / 1000.0
    names = ", ".join(str(m.values.get("IDStr", i + 1)) for i, m in enumerate(inputs))
    return PvReading(sum(m.number("DCW") for m in inputs), energy, f"160 DCW of {names}")


def pv_reading(models: Mapping[int, ModelValues]) -> PvReading | None:
    """PV power from the unit's models (see the module doc); None without an inverter's ``W``."""
    inverter = next((models[i] for i in sorted(INVERTERS) if i in models), None)
    if MPPT in models:
        reading = _from_mppt(models[MPPT])
        if reading is not None:
            return _at_least_zero(reading)
    if inverter is None or not inverter.has("W"):
        return None
    battery = models.get(BATTERY)
    if battery is not None and battery.has("W"):
        charge_w = -battery.number("W")
        mid = inverter.model.id
        if inverter.has("DCW"):
            return _at_least_zero(PvReading(inverter.number("DCW") + charge_w, None, f"{mid} DCW - 802 W"))
        return _at_least_zero(PvReading(inverter.number("W") + charge_w, None, f"{mid} W - 802 W"))
    return _at_least_zero(PvReading(inverter.number("W"), None, f"{inverter.model.id} W"))


def _at_least_zero(reading: PvReading) -> PvReading:
    # PV produces, never consumes: a sum a few watts below zero at night is two meters' noise
    # (or the inverter's own standby draw), not PV.
    if reading.power_w >= 0.0:
        return reading
    return PvReading(0.0, reading.energy_kwh, reading.how)
