"""A run under a household contract, billed the one way for the agent, the baseline and the reference.

The agent's cost is its contract bill as its ledger keeps it (:func:`ledger_costs`: the charges the
settler booked per closed metering interval). The ordinary-rules baseline and the perfect-foresight
reference are billed by the same charges function the settler uses
(``agent.tariff.contract_book.interval_charges``) on their metered flows, interval by interval
with the month's running totals (:class:`ContractPricing`), so import and export prices, network
parts by time of use, VAT, tiers, demand and the standing charges per local day and month are
counted identically for all three. A standing charge is booked with the first billed interval of
its day or month: a week from 07:00 pays the daily charge on eight local days and a monthly one
in full, on all three sides alike.

The market price under a dynamic tariff is the scenario's recorded ``forward_price_per_kwh``,
hourly (the prices the run's price service publishes); under an OpenADR price program it is the
program's price by its events (:mod:`hil.sim.program`). The reference plans against the
contract's import and export prices of every interval with no publication delay, and against its
demand charge as the agent's planner does (:meth:`ContractPricing.plan_demand`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from agent.ledger import Ledger
from agent.ledger.contract import Metered, MonthSoFar
from agent.market.intervals import Duration, Interval, containing, intervals_between
from agent.market.records import interval_hours
from agent.optimizer import DemandInputs
from agent.planning.demand import demand_inputs
from agent.tariff.bill import demand_counts
from agent.tariff.calendar import TariffCalendar
from agent.tariff.contract_book import interval_charges
from agent.tariff.household import HouseholdPrice, household_prices
from agent.tariff.sources import MarketPrice
from hil.fast.recorded_prices import hourly_prices
from hil.sim.contract import ContractSpec

# A metered flow: the interval's start, import and export energy (kWh).
Flow = tuple[datetime, float, float]
# Beyond the run: the reference's windows and the baseline's last bin stay inside it.
MARGIN = timedelta(days=2)
STANDING_UNITS = ("day", "month")


def _kwh(value: float) -> Decimal:
    return Decimal(repr(max(float(value), 0.0)))


class ContractPricing:
    """The contract's prices per metering interval over a run, and its bill of metered flows."""

    def __init__(
        self,
        contract: ContractSpec,
        *,
        zone: ZoneInfo,
        start: datetime,
        days: float,
        step: Duration,
        market_at: Callable[[datetime], Decimal],
    ) -> None:
        self.contract = contract
        self.zone = zone
        self.step = step
        end = start + timedelta(days=days) + MARGIN
        tariff = contract.source
        intervals = intervals_between(start, end, step, zone)
        market: list[MarketPrice]
        if contract.dynamic:
            market = hourly_prices(market_at, start, end, contract.currency)
        elif contract.program is not None:  # the program's price by its events
            market = [
                MarketPrice(iv.start_utc, step, market_at(iv.start_utc), contract.currency, "firm")
                for iv in intervals
            ]
        else:
            fixed = _fixed_market_price(contract)
            market = [MarketPrice(iv.start_utc, step, fixed, contract.currency, "firm") for iv in intervals]
        prices = household_prices(tariff, TariffCalendar(tariff, zone), intervals, market, contract.currency)
        self._prices = {p.interval.start_utc: p for p in prices}

    def price(self, at: datetime) -> HouseholdPrice:
        return self._prices[containing(at, self.step, self.zone).start_utc]

    def buy_per_kwh(self, at: datetime) -> float:
        """What the home pays per kWh imported in the interval of ``at`` (every part and VAT)."""
        return float(self.price(at).import_per_kwh)

    def sell_per_kwh(self, at: datetime) -> float:
        """What the home is paid per kWh exported in the interval of ``at``."""
        return float(self.price(at).export_per_kwh)

    # Every part of the price is in buy/sell: no separate network charge on the flows.
    import_adder_per_kwh = 0.0
    export_adder_per_kwh = 0.0

    def plan_prices(self, at: datetime) -> tuple[float, float, float, float]:
        """Energy traded at the export price, the gap to the import price as an import adder.

        Buying and selling at one price with the difference on the import flow makes importing
        and exporting at once cost that difference, so the plan never does both (at two trade
        prices and no adders, the meter's split into import and export would be free). Where a
        contract paid more for export than it charges for import, the plan sees exports at the
        import price (an adder must not be negative).
        """
        import_per_kwh, export_per_kwh = self.buy_per_kwh(at), self.sell_per_kwh(at)
        trade = min(import_per_kwh, export_per_kwh)
        return trade, trade, import_per_kwh - trade, 0.0

    def plan_demand(self, starts: Sequence[datetime], before: Sequence[Flow]) -> DemandInputs | None:
        """The contract's demand charge over a reference plan, as the agent's plan gets it
        (``agent.planning.demand``), the month's peak so far from the flows billed before it."""
        tariff = self.contract.source
        if tariff.demand is None or not starts:
            return None
        month = containing(starts[0], Duration.P1M, self.zone)
        peak_kw = Decimal(0)
        for at, import_kwh, _ in before:
            if not month.contains(at):  # a long run's later windows pass all the flows before them
                continue
            price = self.price(at)
            if demand_counts(tariff, price):
                peak_kw = max(peak_kw, _kwh(import_kwh) / interval_hours(price.interval))
        return demand_inputs(tariff, [self.price(at) for at in starts], peak_kw)

    def flow_costs(self, flows: Sequence[Flow]) -> list[float]:
        """Each flow's charges (in order; a standing charge with the first flow of its day or month)."""
        tariff = self.contract.source
        month_kwh: dict[datetime, Decimal] = {}
        peak_kw: dict[datetime, Decimal] = {}
        charged: set[Interval] = set()
        out = []
        for at, import_kwh, export_kwh in flows:
            price = self.price(at)
            iv = price.interval
            day = containing(iv.start_utc, Duration.P1D, self.zone)
            month = containing(iv.start_utc, Duration.P1M, self.zone)
            key = month.start_utc
            so_far = MonthSoFar(
                day,
                month,
                month_kwh.get(key, Decimal(0)),
                peak_kw.get(key, Decimal(0)),
                day in charged,
                month in charged,
            )
            metered = Metered(iv, _kwh(import_kwh), _kwh(export_kwh))
            charges = interval_charges(tariff, price, metered, so_far)
            month_kwh[key] = so_far.import_kwh + metered.import_kwh
            rise = sum((c.quantity for c in charges if c.component == "demand"), Decimal(0))
            peak_kw[key] = so_far.peak_kw + rise
            charged.update(c.interval for c in charges if c.unit in STANDING_UNITS)
            out.append(float(sum((c.amount for c in charges), Decimal(0))))
        return out


def _fixed_market_price(contract: ContractSpec) -> Decimal:
    price = getattr(contract.source.market, "price_per_kwh", Decimal(0))
    return price if isinstance(price, Decimal) else Decimal(str(price))


def _ledger_charges(
    ledger: Ledger, party: str, start: datetime, end: datetime
) -> list[tuple[datetime, str, float]]:
    month0 = containing(start, Duration.P1M, ledger.tz).start_utc
    out = []
    for c in ledger.contract_charges(party, month0, end):
        standing = c.unit in STANDING_UNITS
        if standing and c.interval.end_utc <= start:
            continue
        if not standing and c.interval.start_utc < start:
            continue
        out.append((max(c.interval.start_utc, start), c.component, float(c.amount)))
    return out


def ledger_costs(ledger: Ledger, party: str, start: datetime, end: datetime) -> list[tuple[datetime, float]]:
    """The agent's contract charges over ``[start, end)``, each at the instant it counts from.

    An interval's charges count at its start; a standing charge at the start of its day or month,
    or at ``start`` where that lies before (the run's first day and month are charged in full,
    as :meth:`ContractPricing.flow_costs` charges them).
    """
    return [(at, amount) for at, _, amount in _ledger_charges(ledger, party, start, end)]


def contract_parts(ledger: Ledger, party: str, start: datetime, end: datetime) -> dict[str, float]:
    """The agent's contract bill over ``[start, end)`` by component (market, network, vat, export, ...)."""
    parts: dict[str, float] = {}
    for _, component, amount in _ledger_charges(ledger, party, start, end):
        parts[component] = parts.get(component, 0.0) + amount
    return parts


def settled_count(ledger: Ledger, party: str, start: datetime, end: datetime) -> int:
    return len(ledger.contract_settlements(party, start, end))
