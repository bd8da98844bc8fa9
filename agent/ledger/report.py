"""What the ledger holds for a period, gathered for presentation (``hems ledger``, the web page).

Everything is exact: Decimals are kept as they are stored and turned into strings only by
:func:`to_json`; rounding belongs to whoever shows the figures to a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from agent.ledger.contract_bill import ContractBill, contract_bill, contract_bill_json
from agent.ledger.store import Ledger
from agent.market.intervals import Duration, Interval, intervals_between
from agent.market.records import Transaction
from agent.market.settlement import Bill, Settlement


@dataclass(frozen=True, slots=True)
class PositionRun:
    """Consecutive metering intervals holding the same non-zero position."""

    start: datetime
    end: datetime
    intervals: int
    position_kw: Decimal


@dataclass(frozen=True, slots=True)
class LedgerReport:
    party: str
    start: datetime
    end: datetime
    metering: Duration
    positions: tuple[PositionRun, ...]
    transactions: tuple[Transaction, ...]
    settlements: tuple[Settlement, ...]
    bill: Bill
    # The household contract's bill by component (no lines: the ledger has no contract charges).
    contract: ContractBill


def position_runs(intervals: list[Interval], positions_kw: list[Decimal]) -> list[PositionRun]:
    runs: list[PositionRun] = []
    for interval, kw in zip(intervals, positions_kw, strict=True):
        last = runs[-1] if runs else None
        if last is not None and last.position_kw == kw and last.end == interval.start:
            runs[-1] = PositionRun(last.start, interval.end, last.intervals + 1, kw)
        elif kw != 0:
            runs.append(PositionRun(interval.start, interval.end, 1, kw))
    return runs


def build_report(
    ledger: Ledger, party: str, start: datetime, end: datetime, metering: Duration
) -> LedgerReport:
    intervals = [
        i
        for i in intervals_between(start, end, metering, ledger.tz)
        if i.start_utc >= start and i.end_utc <= end
    ]
    return LedgerReport(
        party=party,
        start=start.astimezone(ledger.tz),
        end=end.astimezone(ledger.tz),
        metering=metering,
        positions=tuple(position_runs(intervals, ledger.positions(intervals, party))),
        transactions=tuple(ledger.transactions(start, end, party)),
        settlements=tuple(ledger.settlements(start, end, party)),
        bill=ledger.bill(party, start, end),
        contract=contract_bill(ledger, party, start, end),
    )


def _interval(i: Interval) -> dict[str, str]:
    return i.to_wire()


def to_json(report: LedgerReport) -> dict[str, Any]:
    """The report as JSON-ready data; every number an exact decimal string."""
    bill = report.bill
    out = {
        "party": report.party,
        "from": report.start.isoformat(),
        "to": report.end.isoformat(),
        "metering_interval": report.metering.value,
        "positions": [
            {
                "start": run.start.isoformat(),
                "end": run.end.isoformat(),
                "intervals": run.intervals,
                "position_kw": str(run.position_kw),
            }
            for run in report.positions
        ],
        "transactions": [
            {
                "id": t.id,
                "tender_id": t.tender_id,
                "buyer": t.buyer,
                "seller": t.seller,
                "product": t.product.value,
                "interval": _interval(t.interval),
                "quantity_kw": str(t.quantity_kw),
                "signed_kw": str(t.signed_kw(report.party)),
                "price": str(t.price_per_kwh),
                "currency": t.currency,
                "executed": t.executed.isoformat(),
            }
            for t in report.transactions
        ],
        "settlements": [
            {
                "interval": _interval(s.interval),
                "source": s.source,
                "position_kw": str(s.position_kw),
                "scheduled_kwh": str(s.scheduled_kwh),
                "import_kwh": str(s.import_kwh),
                "export_kwh": str(s.export_kwh),
                "net_kwh": str(s.net_kwh),
                "deviation_kwh": str(s.deviation_kwh),
                "spot_price": str(s.spot_price_per_kwh),
                "amount": str(s.amount),
                "currency": s.currency,
                "flags": list(s.flags),
            }
            for s in report.settlements
        ],
        "bill": {
            "currency": bill.currency,
            "forward_cost": str(bill.forward_cost),
            "forward_revenue": str(bill.forward_revenue),
            "forward": str(bill.forward),
            "spot": str(bill.spot),
            "transport": str(bill.transport),
            "total": str(bill.total),
            "lines": [
                {
                    "kind": line.kind.value,
                    "ref": line.ref,
                    "interval": _interval(line.interval),
                    "energy_kwh": str(line.energy_kwh),
                    "price": str(line.price_per_kwh),
                    "amount": str(line.amount),
                }
                for line in bill.lines
            ],
        },
    }
    if report.contract.lines:
        out["contract_bill"] = contract_bill_json(report.contract)
    return out
