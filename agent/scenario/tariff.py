"""The household's tariff as a scenario states it, and the prices it gives per interval.

With ``f`` the forward (day-ahead) price of an interval:

* import energy: ``(f + retail_adder_per_kwh) · tax_multiplier``;
* network (transport) charges per kWh imported and exported: flat, or by time of use
  (``periods`` of local wall-clock time override the flat charge, ``from`` inclusive, ``to``
  exclusive, wrapping past midnight when ``to`` <= ``from``);
* export, by ``export.rule``: ``retail`` (the import energy price: one price both ways, net
  metering, as the rig's retailer settles), ``forward`` (``f + export.price_per_kwh``) or
  ``fixed`` (``export.price_per_kwh``, a feed-in tariff);
* ``fixed_per_day``: a standing charge per local day (it shifts every plan's cost alike);
* spot (the price deviations settle at): the ``spot_price_per_kwh`` series where the scenario
  names one; else ``spot.model``: ``forward`` (spot equals the forward price) or ``random``
  (the default): ``spot = f + e`` with e an AR(1) process per row of the forward file,
  ``e_0 ~ N(0, σ²)``, ``e_k = ρ·e_(k-1) + σ·√(1−ρ²)·z_k``, drawn from numpy's PCG64 seeded with
  ``spot.seed``, so a scenario and seed always give the same spot prices; or ``volatile``: the
  same noise plus a spike overlay (``spike_probability``, ``spike_mean_per_kwh``,
  ``spike_up_share``), drawn with the run's seed too (``agent/scenario/spot.py``, which also
  documents how the parameters are calibrated on a price series).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Literal

import numpy as np

from agent.scenario import spot
from agent.scenario.errors import ScenarioError
from agent.scenario.keys import clock_time, join, known, mapping, number
from agent.scenario.series import RawSeries, Vec


@dataclass(frozen=True)
class NetworkPeriod:
    start: time
    end: time
    import_per_kwh: float
    export_per_kwh: float

    def contains(self, wall: time) -> bool:
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end


@dataclass(frozen=True)
class SpotModel:
    model: Literal["random", "forward", "volatile"] = "random"
    sigma_per_kwh: float = 0.01
    correlation: float = 0.9
    seed: int = 0
    spike_probability: float = 0.0
    spike_mean_per_kwh: float = 0.0
    spike_up_share: float = 0.5


@dataclass(frozen=True)
class Tariff:
    retail_adder_per_kwh: float = 0.10
    tax_multiplier: float = 1.0
    import_network_per_kwh: float = 0.07
    export_network_per_kwh: float = 0.01
    periods: tuple[NetworkPeriod, ...] = ()
    export_rule: Literal["retail", "forward", "fixed"] = "retail"
    export_value_per_kwh: float = 0.0  # the fixed price, or the adder over forward
    fixed_per_day: float = 0.0
    spot: SpotModel = SpotModel()

    def import_energy_per_kwh(self, forward: Vec) -> Vec:
        return (forward + self.retail_adder_per_kwh) * self.tax_multiplier

    def export_per_kwh(self, forward: Vec) -> Vec:
        if self.export_rule == "retail":
            return self.import_energy_per_kwh(forward)
        if self.export_rule == "forward":
            return forward + self.export_value_per_kwh
        return np.full(len(forward), self.export_value_per_kwh)

    def network_per_kwh(self, local_starts: list[datetime]) -> tuple[Vec, Vec]:
        """(import, export) network charges for intervals starting at these local times."""
        imp = np.full(len(local_starts), self.import_network_per_kwh)
        exp = np.full(len(local_starts), self.export_network_per_kwh)
        for i, at in enumerate(local_starts):
            for p in self.periods:
                if p.contains(at.time()):
                    imp[i], exp[i] = p.import_per_kwh, p.export_per_kwh
                    break
        return imp, exp

    @property
    def flat_network(self) -> bool:
        return not self.periods


def random_spot(forward: RawSeries, model: SpotModel, *, run_seed: int | None = None) -> RawSeries:
    """The documented random spot around ``forward`` (same grid, same time axis); the run's seed
    counts for the ``volatile`` model only (the ``random`` one stays as its scenario drew it)."""
    if model.model != "volatile":
        return spot.draw(
            forward, sigma_per_kwh=model.sigma_per_kwh, correlation=model.correlation, seed=model.seed
        )
    return spot.draw(
        forward,
        sigma_per_kwh=model.sigma_per_kwh,
        correlation=model.correlation,
        seed=model.seed,
        run_seed=run_seed,
        spike_probability=model.spike_probability,
        spike_mean_per_kwh=model.spike_mean_per_kwh,
        spike_up_share=model.spike_up_share,
    )


def parse_tariff(doc: Mapping[str, Any]) -> Tariff:
    key = "tariff"
    known(key, doc, {"retail_adder_per_kwh", "tax_multiplier", "network", "export", "fixed_per_day", "spot"})
    net = mapping(f"{key}.network", doc.get("network", {}))
    known(f"{key}.network", net, {"import_per_kwh", "export_per_kwh", "periods"})
    imp = number(f"{key}.network.import_per_kwh", net.get("import_per_kwh", 0.07))
    exp = number(f"{key}.network.export_per_kwh", net.get("export_per_kwh", 0.01))
    periods = []
    raw_periods = net.get("periods", [])
    if not isinstance(raw_periods, list):
        raise ScenarioError(f"{key}.network.periods", "must be a list of {from, to, import_per_kwh}")
    for i, p in enumerate(raw_periods):
        k = f"{key}.network.periods[{i}]"
        m = mapping(k, p)
        known(k, m, {"from", "to", "import_per_kwh", "export_per_kwh"})
        if "from" not in m or "to" not in m:
            raise ScenarioError(k, "needs from and to (local HH:MM)")
        periods.append(
            NetworkPeriod(
                clock_time(f"{k}.from", m["from"]),
                clock_time(f"{k}.to", m["to"]),
                number(f"{k}.import_per_kwh", m.get("import_per_kwh", imp)),
                number(f"{k}.export_per_kwh", m.get("export_per_kwh", exp)),
            )
        )
    export = mapping(f"{key}.export", doc.get("export", {}))
    known(f"{key}.export", export, {"rule", "price_per_kwh"})
    rule = export.get("rule", "retail")
    if rule not in ("retail", "forward", "fixed"):
        raise ScenarioError(f"{key}.export.rule", f"must be retail, forward or fixed, got {rule!r}")
    if rule == "fixed" and "price_per_kwh" not in export:
        raise ScenarioError(f"{key}.export.price_per_kwh", "a fixed export price needs its value")
    sp = mapping(f"{key}.spot", doc.get("spot", {}))
    spike_keys = {"spike_probability", "spike_mean_per_kwh", "spike_up_share"}
    known(f"{key}.spot", sp, {"model", "sigma_per_kwh", "correlation", "seed"} | spike_keys)
    model = sp.get("model", "random")
    if model not in ("random", "forward", "volatile"):
        raise ScenarioError(f"{key}.spot.model", f"must be random, forward or volatile, got {model!r}")
    if model != "volatile" and spike_keys & set(sp):
        raise ScenarioError(f"{key}.spot.{sorted(spike_keys & set(sp))[0]}", "spikes need model: volatile")
    seed = sp.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ScenarioError(f"{key}.spot.seed", f"must be a whole number >= 0, got {seed!r}")
    return Tariff(
        retail_adder_per_kwh=number(join(key, "retail_adder_per_kwh"), doc.get("retail_adder_per_kwh", 0.10)),
        tax_multiplier=number(join(key, "tax_multiplier"), doc.get("tax_multiplier", 1.0), lo=0.0, hi=10.0),
        import_network_per_kwh=imp,
        export_network_per_kwh=exp,
        periods=tuple(periods),
        export_rule=rule,
        export_value_per_kwh=number(f"{key}.export.price_per_kwh", export.get("price_per_kwh", 0.0)),
        fixed_per_day=number(join(key, "fixed_per_day"), doc.get("fixed_per_day", 0.0), lo=0.0),
        spot=SpotModel(
            model,
            number(f"{key}.spot.sigma_per_kwh", sp.get("sigma_per_kwh", 0.01), lo=0.0),
            number(f"{key}.spot.correlation", sp.get("correlation", 0.9), lo=0.0, hi=0.999),
            seed,
            number(f"{key}.spot.spike_probability", sp.get("spike_probability", 0.0), lo=0.0, hi=1.0),
            number(f"{key}.spot.spike_mean_per_kwh", sp.get("spike_mean_per_kwh", 0.0), lo=0.0, hi=10.0),
            number(f"{key}.spot.spike_up_share", sp.get("spike_up_share", 0.5), lo=0.0, hi=1.0),
        ),
    )
