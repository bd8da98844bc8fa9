"""The closed loop's key performance indicators and the arithmetic behind them.

Money is in the site currency over the simulated period; energies in kWh; comfort and tank
violations in °C·h: the time integral of how far the temperature lay outside its band
(``∫ max(0, lo − T, T − hi) dt``), so 0.5 °C·h is half a degree for an hour or a degree for half
an hour.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

KPI_KEYS = (
    "cost",
    "baseline_cost",
    "perfect_foresight_cost",
    "comfort_violation_c_h",
    "tank_violation_c_h",
    "ev_shortfall_kwh",
    "energy_balance_error_kwh",
    "transactions",
    "tenders_posted",
    "tenders_accepted_by_retailer",
    "faults_injected",
    "plans",
    "plan_failures",
)


def outside_band(value: float, lo: float, hi: float) -> float:
    """How far ``value`` lies outside ``[lo, hi]`` (0 inside)."""
    return max(0.0, lo - value, value - hi)


def band_violation_c_h(start_c: float, end_c: float, lo: float, hi: float, dt_s: float) -> float:
    """∫ outside_band dt over a step whose temperature moved linearly from start to end (°C·h).

    Integrated exactly for a linear ramp so that a band crossing inside a step counts only its
    part outside the band (a coarse step would otherwise over- or under-count).
    """
    if dt_s <= 0:
        return 0.0
    total = 0.0
    for edge, sign in ((lo, -1.0), (hi, 1.0)):
        a, b = sign * (start_c - edge), sign * (end_c - edge)  # > 0: outside on that side
        if a <= 0 and b <= 0:
            continue
        if a >= 0 and b >= 0:
            total += (a + b) / 2.0
        else:
            peak = max(a, b)
            total += peak * (peak / (abs(a) + abs(b))) / 2.0  # triangle over the outside part
    return total * dt_s / 3600.0


def energy_balance_error_kwh(meter_net_kwh: float, device_kwh: dict[str, float]) -> float:
    """Meter net energy (import − export) minus Σ device energy (loads +, PV −)."""
    devices = sum(v for k, v in device_kwh.items() if k != "pv") - device_kwh.get("pv", 0.0)
    return meter_net_kwh - devices


@dataclass(frozen=True)
class Kpis:
    cost: float
    baseline_cost: float
    perfect_foresight_cost: float
    comfort_violation_c_h: float
    tank_violation_c_h: float
    ev_shortfall_kwh: float
    energy_balance_error_kwh: float
    transactions: int
    tenders_posted: int
    tenders_accepted_by_retailer: int
    faults_injected: int
    plans: int
    plan_failures: int

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in asdict(self).items():
            out[k] = round(v, 4) if isinstance(v, float) else v
        return out

    def beats_baseline(self, days: float, *, comfort_per_day_c_h: float = 0.5) -> list[str]:
        """Why the run misses the acceptance bar (empty: it passes)."""
        misses = []
        if self.cost >= self.baseline_cost:
            misses.append(f"cost {self.cost:.2f} is not below the baseline {self.baseline_cost:.2f}")
        if self.comfort_violation_c_h > comfort_per_day_c_h * days:
            misses.append(f"comfort violation {self.comfort_violation_c_h:.2f} °C·h over {days:g} day(s)")
        if self.ev_shortfall_kwh > 0.01:
            misses.append(f"EV shortfall {self.ev_shortfall_kwh:.2f} kWh")
        return misses
