"""The closed loop's key performance indicators and the arithmetic behind them.

Money is in the site currency over the simulated period; energies in kWh; comfort and tank
violations in °C·h: the time integral of how far the temperature lay outside its band
(``∫ max(0, lo − T, T − hi) dt``), so 0.5 °C·h is half a degree for an hour or a degree for half
an hour. Comfort counts the side of the band the heat pump works against in the mode in force
(below it heating, above it cooling: :func:`hil.sim.recorder.comfort_limits_c`);
``baseline_comfort_violation_c_h`` is the ordinary-rules baseline's on the same house and weather.

For an honest comparison (a run may not win by emptying its stores):

* ``cost_adjusted``: the cost minus the value of the energy the agent's run leaves in its stores
  at the end beyond what the baseline leaves (battery and car: kWh; tank: its heat above the
  baseline's, ``litres × 4.186 kJ/(kg·K) × ΔT``, as the resistive element makes one kWh of heat
  from one kWh), valued at the period's mean import price (mean spot price plus the network
  charge on imports): what the energy would cost to buy back on an average interval;
* ``captured_saving``: (baseline − cost_adjusted) / (baseline − perfect foresight), the share of
  the saving the perfect-foresight reference finds that the agent made (0 when the reference
  finds none);
* ``peak_import_kw``: the highest mean import over one metering interval (what a demand charge
  bills); ``import_kwh`` / ``export_kwh``: the meter's totals; ``self_consumption``: the share
  of the PV energy not exported, ``max(0, 1 − export / PV)`` (1 without PV).

Real markets (negative prices, spikes), with ``p`` the spot price a metering interval settles at
(what the home pays per kWh imported and is paid per kWh exported, before network charges):

* ``import_when_paid_kwh``: energy imported in intervals where importing earns money,
  ``p + import network charge < 0`` (more is better: the home charges when paid to);
* ``export_when_costly_kwh``: energy exported where exporting costs money, ``p − export network
  charge < 0`` (less is better: PV curtailed, or stored);
* ``discharge_in_spikes_kwh``: battery energy discharged in intervals where ``p`` is at least
  :data:`SPIKE_PER_KWH` (more is better: the store sells into the spike).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

KPI_KEYS = (
    "cost",
    "baseline_cost",
    "perfect_foresight_cost",
    "comfort_violation_c_h",
    "baseline_comfort_violation_c_h",
    "tank_violation_c_h",
    "ev_shortfall_kwh",
    "energy_balance_error_kwh",
    "transactions",
    "tenders_posted",
    "tenders_accepted_by_retailer",
    "faults_injected",
    "plans",
    "plan_failures",
    "cost_adjusted",
    "captured_saving",
    "peak_import_kw",
    "import_kwh",
    "export_kwh",
    "self_consumption",
    "import_when_paid_kwh",
    "export_when_costly_kwh",
    "discharge_in_spikes_kwh",
)
# A spike: a spot price at or above this, currency per kWh (several times a retail price).
SPIKE_PER_KWH = 1.0

WATER_KWH_PER_L_K = 4.186 / 3600.0  # heat capacity of water: 4.186 kJ/(kg·K), one kg per litre


def stored_kwh(battery_kwh: float, ev_kwh: float, tank_l: float, tank_c: float) -> float:
    """Energy held in the stores, kWh (the tank's heat counted from 0 °C: only differences matter)."""
    return battery_kwh + ev_kwh + tank_l * WATER_KWH_PER_L_K * tank_c


def cost_adjusted(cost: float, stored_kwh: float, baseline_stored_kwh: float, price_per_kwh: float) -> float:
    """The cost less the value of what the run stored beyond the baseline (see the module doc)."""
    return cost - (stored_kwh - baseline_stored_kwh) * price_per_kwh


def captured_saving(baseline: float, adjusted: float, foresight: float) -> float:
    """(baseline − adjusted) / (baseline − foresight); 0 when the reference saves nothing."""
    room = baseline - foresight
    return (baseline - adjusted) / room if room > 1e-9 else 0.0


def self_consumption(pv_kwh: float, export_kwh: float) -> float:
    """Share of the PV energy used on site, ``max(0, 1 − export / PV)``; 1 without PV."""
    return max(0.0, 1.0 - export_kwh / pv_kwh) if pv_kwh > 1e-9 else 1.0


def peak_import_kw(import_kwh_per_bin: list[float], bin_s: float) -> float:
    """The highest mean import power over one bin (metering interval), kW."""
    return max(import_kwh_per_bin, default=0.0) * 3600.0 / bin_s


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
    # The ordinary-rules baseline's, on the same house and weather: what the weather alone does.
    baseline_comfort_violation_c_h: float
    tank_violation_c_h: float
    ev_shortfall_kwh: float
    energy_balance_error_kwh: float
    transactions: int
    tenders_posted: int
    tenders_accepted_by_retailer: int
    faults_injected: int
    plans: int
    plan_failures: int
    cost_adjusted: float = 0.0
    captured_saving: float = 0.0
    peak_import_kw: float = 0.0
    import_kwh: float = 0.0
    export_kwh: float = 0.0
    self_consumption: float = 0.0
    import_when_paid_kwh: float = 0.0
    export_when_costly_kwh: float = 0.0
    discharge_in_spikes_kwh: float = 0.0

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


@dataclass(frozen=True)
class PricedFlow:
    """One metering interval: the price it settled at, its flows (kWh), the battery's energy
    (kWh, + charge / − discharge)."""

    spot_per_kwh: float
    import_kwh: float
    export_kwh: float
    battery_kwh: float


def market_kpis(
    flows: list[PricedFlow], import_adder_per_kwh: float, export_adder_per_kwh: float
) -> dict[str, float]:
    """``import_when_paid_kwh``, ``export_when_costly_kwh``, ``discharge_in_spikes_kwh`` (module doc)."""
    return {
        "import_when_paid_kwh": sum(f.import_kwh for f in flows if f.spot_per_kwh + import_adder_per_kwh < 0),
        "export_when_costly_kwh": sum(
            f.export_kwh for f in flows if f.spot_per_kwh - export_adder_per_kwh < 0
        ),
        "discharge_in_spikes_kwh": sum(
            max(-f.battery_kwh, 0.0) for f in flows if f.spot_per_kwh >= SPIKE_PER_KWH
        ),
    }


def trading_value(cost_without_trading: float, cost_with_trading: float) -> float:
    """What forward trading earned: the cost of the same run with ``market.forward_trading: false``
    (no tender accepted or posted, everything settled at spot) minus the cost with it on."""
    return cost_without_trading - cost_with_trading


@dataclass(frozen=True)
class Spread:
    """Mean, (population) standard deviation, min and max of one figure across runs."""

    mean: float
    std: float
    min: float
    max: float

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        if not values:
            raise ValueError("a spread needs at least one value")
        n = len(values)
        mean = sum(values) / n
        std = (sum((v - mean) ** 2 for v in values) / n) ** 0.5
        return cls(round(mean, 4), round(std, 4), round(min(values), 4), round(max(values), 4))
