"""The trading rules: the config's ``market`` section plus documented defaults it does not set.

Defaults (the config has no key for them):

* ``quantity_step_kw`` 0.01: acceptances and posted quantities are rounded *down* to it, so
  rounding never trades more than the plan supports;
* ``min_quantity_kw`` 0.05: smaller quantities are dropped (not worth a message);
* ``price_tick_per_kwh`` 0.0001: posted prices are rounded in the home's favour (buy down,
  sell up), which keeps a posted tender inside the bid curve;
* ``accept_margin_s`` 5: a tender that expires sooner is not accepted (the acceptance would
  arrive late);
* ``post_lead_s`` 60: a posted tender expires this long before its interval starts;
* ``price_tolerance_per_kwh`` 0.005 and ``quantity_tolerance_kw`` 0.1: an open posted tender this
  close to a new one stands (no churn for solver noise);
* ``hedge_deadband_kw`` 0.25: the position is left alone in an interval where it lies this close
  to the hedge target. Every re-plan moves the target a little with the forecasts; chasing each
  move buys and sells the same hour back and forth, and every round trip pays the retailer's
  spread.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from agent.config import Config
from agent.market.intervals import Interval
from agent.planning.market import MarketRules
from agent.trading.errors import TradingError


@dataclass(frozen=True)
class TradingRules(MarketRules):
    """The planner's market rules (parties, currency, price caps, tender size) plus the trading ones."""

    commitment_window: timedelta
    hedge_ratio: float
    quantity_step_kw: Decimal = Decimal("0.01")
    min_quantity_kw: Decimal = Decimal("0.05")
    price_tick_per_kwh: Decimal = Decimal("0.0001")
    accept_margin: timedelta = timedelta(seconds=5)
    post_lead: timedelta = timedelta(seconds=60)
    price_tolerance_per_kwh: Decimal = Decimal("0.005")
    quantity_tolerance_kw: Decimal = Decimal("0.1")
    hedge_deadband_kw: float = 0.25
    forward_trading: bool = True  # the config's market.forward_trading

    def __post_init__(self) -> None:
        if not 0.0 <= self.hedge_ratio <= 1.0:
            raise TradingError("market.hedge_ratio", f"must be 0..1, got {self.hedge_ratio}")
        if self.price_min_per_kwh >= self.price_max_per_kwh:
            raise TradingError("market.price_max_per_kwh", "must be above price_min_per_kwh")
        for name in ("max_tender_kw", "quantity_step_kw", "price_tick_per_kwh"):
            if getattr(self, name) <= 0:
                raise TradingError(name, "must be > 0")
        if self.min_quantity_kw < self.quantity_step_kw:
            raise TradingError("min_quantity_kw", "must be >= quantity_step_kw")

    @classmethod
    def from_config(cls, config: Config) -> TradingRules:
        market = MarketRules.from_config(config)
        return cls(
            **{f.name: getattr(market, f.name) for f in fields(MarketRules)},
            commitment_window=timedelta(hours=config.market.commitment_window_h),
            hedge_ratio=config.market.hedge_ratio,
            forward_trading=config.market.forward_trading,
        )

    def in_window(self, interval: Interval, now: datetime) -> bool:
        """Not begun, and starting inside the commitment window."""
        return now < interval.start_utc < now + self.commitment_window

    def floor_kw(self, quantity_kw: float | Decimal) -> Decimal:
        """Round down to the quantity step, capped at ``max_tender_kw``; 0 below the minimum."""
        q = Decimal(str(quantity_kw)) if not isinstance(quantity_kw, Decimal) else quantity_kw
        q = min(
            (q / self.quantity_step_kw).to_integral_value(ROUND_FLOOR) * self.quantity_step_kw,
            self.max_tender_kw,
        )
        return q if q >= self.min_quantity_kw else Decimal(0)

    def tick(self, price_per_kwh: float, *, up: bool) -> Decimal:
        p = Decimal(repr(price_per_kwh)) / self.price_tick_per_kwh
        return p.to_integral_value(ROUND_CEILING if up else ROUND_FLOOR) * self.price_tick_per_kwh
