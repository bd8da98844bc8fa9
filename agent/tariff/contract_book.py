"""The settler's path under a tariff: each closed metering interval billed by the contract, into the ledger.

An interval is billed only at a **firm** price — the contract's own, or a price service's
published one. While its price is estimated (tomorrow's day-ahead prices not yet published),
indicative, or unknown (the service down), the interval waits and is billed once the firm price
is known; it is never billed at a guess. The charges are those of ``hems tariff --bill``
(agent/tariff/bill.py), booked interval by interval:

* the import components and VAT of the interval's import, tiers placed by the month's import
  booked before it; the export credit of its export;
* each ``fixed_per_day`` / ``fixed_per_month`` charge once, with the first interval of its local
  day / month that is billed (on that day's / month's interval);
* ``demand``: the rise of the month's peak average import, when this interval raises it — so
  the month's demand rows add up to peak kW × ``per_kw``.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from decimal import Decimal

from agent.config.tariff import TariffSource
from agent.ledger import Ledger, SettlementDeferred
from agent.ledger.contract import ContractCharge, ContractSettlement, Metered, MonthSoFar
from agent.market.intervals import Duration, Interval, containing
from agent.market.records import interval_hours
from agent.market.settlement import DEFAULT_READING_TOLERANCE
from agent.tariff.bill import demand_counts, energy_amounts
from agent.tariff.counterparty import TariffCounterparty
from agent.tariff.errors import TariffError
from agent.tariff.household import HouseholdPrice

# A price lookup may ask the price service (its own retries are bounded at 20 s, dynamic.py).
PRICE_TIMEOUT_S = 25.0
# SQLite with synchronous=FULL on an SD card can stall for a second or two.
LEDGER_TIMEOUT_S = 10.0
BILLED_STATE = "firm"


def interval_charges(
    tariff: TariffSource, price: HouseholdPrice, metered: Metered, so_far: MonthSoFar
) -> list[ContractCharge]:
    """The charges of one metered interval at ``price``, given what its month booked before it."""
    iv, state = metered.interval, price.state
    energy = energy_amounts(tariff, price, metered.import_kwh, so_far.import_kwh)
    out = [ContractCharge(iv, c, metered.import_kwh, "kWh", amount, state) for c, amount in energy.items()]
    vat = sum(energy.values(), Decimal(0)) * (tariff.vat_multiplier - 1)
    out.append(ContractCharge(iv, "vat", metered.import_kwh, "kWh", vat, state))
    if metered.export_kwh:
        credit = -metered.export_kwh * price.export_per_kwh
        out.append(ContractCharge(iv, "export", metered.export_kwh, "kWh", credit, state))
    if not so_far.day_charged:
        out += [
            ContractCharge(so_far.day, n, Decimal(1), "day", v, state)
            for n, v in tariff.fixed_per_day.items()
        ]
    if not so_far.month_charged:
        out += [
            ContractCharge(so_far.month, n, Decimal(1), "month", v, state)
            for n, v in tariff.fixed_per_month.items()
        ]
    if tariff.demand is not None and demand_counts(tariff, price):
        kw = metered.import_kwh / interval_hours(iv)
        if kw > so_far.peak_kw:
            rise = kw - so_far.peak_kw
            out.append(ContractCharge(iv, "demand", rise, "kW", rise * tariff.demand.per_kw, state))
    return out


class ContractBook:
    """Settles closed metering intervals by the household's contract (blocking parts in threads)."""

    def __init__(
        self,
        ledger: Ledger,
        counterparty: TariffCounterparty,
        tariff: TariffSource,
        *,
        party: str,
        meter: str,
        currency: str,
        tolerance: timedelta = DEFAULT_READING_TOLERANCE,
    ) -> None:
        self._ledger = ledger
        self._cp = counterparty
        self._tariff = tariff
        self._party = party
        self._meter = meter
        self._currency = currency
        self._tolerance = tolerance

    def settled_intervals(self, start: datetime, end: datetime) -> set[Interval]:
        """Intervals settled that start in ``[start, end)`` (blocking)."""
        found = self._ledger.contract_settlements(self._party, start, end)
        return {s.interval for s in found}

    async def settle(self, interval: Interval) -> ContractSettlement:
        """Settle ``interval`` or return its stored settlement; raises SettlementDeferred while it waits."""
        done = await asyncio.wait_for(
            asyncio.to_thread(self._ledger.contract_settlement_for, interval, self._party), LEDGER_TIMEOUT_S
        )
        if done:
            return done[0]
        label = f"{interval.start.isoformat()}/{interval.duration.value}"
        try:
            # Asked through the end of the local day: one price fetch serves the day's intervals.
            day = containing(interval.start_utc, Duration.P1D, interval.tz)
            ask = self._cp.prices([interval], ask_through=day.end_utc)
            price = (await asyncio.wait_for(ask, PRICE_TIMEOUT_S))[0]
        except TariffError as e:
            raise SettlementDeferred(label, f"no contract price yet: {e}") from e
        except TimeoutError as e:
            raise SettlementDeferred(label, f"no contract price within {PRICE_TIMEOUT_S:g} s") from e
        if price.state != BILLED_STATE:
            raise SettlementDeferred(label, f"the price is {price.state}; only a firm price is billed")

        def charges(metered: Metered, so_far: MonthSoFar) -> list[ContractCharge]:
            return interval_charges(self._tariff, price, metered, so_far)

        call = asyncio.to_thread(
            self._ledger.settle_contract,
            interval,
            self._party,
            self._meter,
            currency=self._currency,
            price_state=price.state,
            charges=charges,
            tolerance=self._tolerance,
        )
        result, _ = await asyncio.wait_for(call, LEDGER_TIMEOUT_S)
        return result
