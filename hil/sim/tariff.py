"""The retailer's prices for a scenario, shared by the retailer simulator, the baseline and the
perfect-foresight run, so that all three are billed by the same tariff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from hil.plant.series import DATA_DIR
from hil.retailer import PricingRules, Wholesale
from hil.sim.scenario import Scenario, ScenarioError


@dataclass(frozen=True)
class Tariff:
    rules: PricingRules
    wholesale: Wholesale

    def spot_per_kwh(self, at: datetime) -> float:
        return float(self.rules.spot_price(self.wholesale.at(at)))

    @property
    def import_adder_per_kwh(self) -> float:
        return float(self.rules.import_adder_per_kwh)

    @property
    def export_adder_per_kwh(self) -> float:
        return float(self.rules.export_adder_per_kwh)

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


def scenario_tariff(scenario: Scenario) -> Tariff:
    tz = ZoneInfo(scenario.home.timezone)
    path = DATA_DIR / f"prices_de_{scenario.home.week}_week.csv"
    wholesale = Wholesale.from_csv(path, tz, scenario.start.astimezone(tz).date())
    return Tariff(pricing_rules(scenario.pricing), wholesale)
