"""The retailer's prices for a scenario, shared by the retailer simulator, the baseline and the
perfect-foresight run, so that all three are billed by the same tariff.

The wholesale prices are the scenario's ``forward_price_per_kwh`` and spot (its own series, or
the tariff's spot model: ``agent/scenario/tariff.py``), replayed on the plant's data clock. The
retailer's rules take the scenario's tariff (retail adder, network charges) with the rig's
``simulate.pricing`` laid over them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Protocol
from zoneinfo import ZoneInfo

from agent.optimizer import DemandInputs
from agent.scenario.series import SeriesSpec, load_raw
from agent.scenario.tariff import random_spot
from hil.plant.build import data_clock
from hil.plant.params import HomeParams
from hil.plant.series import Series, from_raw, from_spec
from hil.plant.weather import DataClock
from hil.retailer import PricingRules, WholesalePrices
from hil.retailer.premium import PremiumPrices, has_premium
from hil.sim.scenario import Scenario, ScenarioError

# Prices are read as floats from the files: rounded back to the decimals a price file can carry.
_PRICE_DIGITS = Decimal("1e-9")


@dataclass(frozen=True)
class ReplayedPrices:
    """Forward and spot wholesale prices (currency per kWh) read through the plant's data clock."""

    forward: tuple[Series, tzinfo]
    spot: tuple[Series, tzinfo]
    clock: DataClock

    def _value(self, which: tuple[Series, tzinfo], instant: datetime) -> Decimal:
        series, zone = which
        return Decimal(repr(series.step(self.clock.in_zone(instant, zone)))).quantize(_PRICE_DIGITS)

    def at(self, instant: datetime) -> Decimal:
        return self._value(self.forward, instant)

    def spot_at(self, instant: datetime) -> Decimal:
        return self._value(self.spot, instant)


# A metered flow: the interval's start, import and export energy (kWh).
Flow = tuple[datetime, float, float]


class Pricing(Protocol):
    """How the baseline and the reference are planned and billed: the retailer's rules
    (:class:`Tariff`) or a household contract (``hil.sim.contract_pricing.ContractPricing``)."""

    @property
    def import_adder_per_kwh(self) -> float: ...

    @property
    def export_adder_per_kwh(self) -> float: ...

    def buy_per_kwh(self, at: datetime) -> float:
        """The energy price of importing in the interval of ``at`` (before the import adder)."""
        ...

    def sell_per_kwh(self, at: datetime) -> float:
        """The energy price of exporting in the interval of ``at`` (before the export adder)."""
        ...

    def flow_costs(self, flows: Sequence[Flow]) -> list[float]:
        """What each metered flow costs, in order (the whole bill is their sum)."""
        ...

    def plan_prices(self, at: datetime) -> tuple[float, float, float, float]:
        """The reference plan's prices in the interval of ``at``: (buy, sell, import adder,
        export adder), as ``agent.optimizer.grid.GridInputs`` takes them."""
        ...

    def plan_demand(self, starts: Sequence[datetime], before: Sequence[Flow]) -> DemandInputs | None:
        """The demand charge of a reference plan over the intervals starting at ``starts``, the
        month's peak so far set by the flows ``before`` it (None: the prices have none)."""
        ...


@dataclass(frozen=True)
class Tariff:
    rules: PricingRules
    wholesale: WholesalePrices

    def spot_per_kwh(self, at: datetime) -> float:
        return float(self.rules.spot_price(self.wholesale.spot_at(at)))

    @property
    def import_adder_per_kwh(self) -> float:
        return float(self.rules.import_adder_per_kwh)

    @property
    def export_adder_per_kwh(self) -> float:
        return float(self.rules.export_adder_per_kwh)

    def buy_per_kwh(self, at: datetime) -> float:
        return self.spot_per_kwh(at)

    def sell_per_kwh(self, at: datetime) -> float:
        return self.spot_per_kwh(at)

    def flow_costs(self, flows: Sequence[Flow]) -> list[float]:
        return [self.metered_cost(at, imp, exp) for at, imp, exp in flows]

    def plan_prices(self, at: datetime) -> tuple[float, float, float, float]:
        spot = self.spot_per_kwh(at)
        return spot, spot, self.import_adder_per_kwh, self.export_adder_per_kwh

    def plan_demand(self, starts: Sequence[datetime], before: Sequence[Flow]) -> None:
        return None  # the retailer bills energy only

    def metered_cost(self, at: datetime, import_kwh: float, export_kwh: float) -> float:
        """A metering interval settled wholly at spot, with the DSO's network charge on each flow
        (what the retailer simulator bills a home that bought nothing forward)."""
        return (
            (import_kwh - export_kwh) * self.spot_per_kwh(at)
            + import_kwh * self.import_adder_per_kwh
            + export_kwh * self.export_adder_per_kwh
        )


def pricing_rules(overrides: dict[str, str]) -> PricingRules:
    known = PricingRules.__dataclass_fields__
    values: dict[str, object] = {}
    for key, text in overrides.items():
        if key not in known:
            raise ScenarioError(f"pricing.{key}", f"unknown; allowed: {', '.join(sorted(known))}")
        try:
            values[key] = int(text) if key == "ladder_steps" else Decimal(text)
        except (InvalidOperation, ValueError) as e:
            raise ScenarioError(f"pricing.{key}", f"not a number: {text!r}") from e
    try:
        return PricingRules(**values)  # type: ignore[arg-type]
    except ValueError as e:
        raise ScenarioError("pricing", str(e)) from e


def home_prices(params: HomeParams, start: datetime, *, run_seed: int | None = None) -> ReplayedPrices:
    """``run_seed``: the run's seed, which the ``volatile`` spot model draws with."""
    data = params.data
    tz = ZoneInfo(params.timezone)
    forward = from_spec("forward_price_per_kwh", data.forward_price_per_kwh, tz)
    if data.spot_price_per_kwh is not None:
        spot = from_spec("spot_price_per_kwh", data.spot_price_per_kwh, tz)
    elif data.spot.model != "forward" and isinstance(data.forward_price_per_kwh, SeriesSpec):
        raw = random_spot(load_raw(data.forward_price_per_kwh), data.spot, run_seed=run_seed)
        spot = from_raw("spot_price_per_kwh", raw, tz)
    else:
        spot = forward
    return ReplayedPrices(forward, spot, data_clock(params, start))


def scenario_tariff(scenario: Scenario) -> Tariff:
    rules = pricing_rules(scenario.pricing)
    prices: WholesalePrices = home_prices(scenario.home, scenario.start, run_seed=scenario.seed)
    if has_premium(rules):
        prices = PremiumPrices(prices, rules, ZoneInfo(scenario.home.timezone))
    return Tariff(rules, prices)
