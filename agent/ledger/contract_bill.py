"""The household contract's bill for a period, by component, summed from the ledger's contract charges.

A charge belongs to the period its interval starts in: a metering interval's charges to the
period holding it, a standing charge to the period holding its local day's or month's start.
Amounts are exact; rounding is the presenter's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from agent.ledger.store import Ledger

# Energy components first (in the order the contract lists them), then standing and demand charges.
_UNIT_ORDER = {"kWh": 0, "day": 1, "month": 2, "kW": 3}


@dataclass(frozen=True, slots=True)
class ComponentTotal:
    component: str
    unit: str
    quantity: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class ContractBill:
    start: datetime
    end: datetime
    currency: str
    lines: tuple[ComponentTotal, ...]
    intervals: int  # metering intervals settled by the contract in the period
    import_kwh: Decimal
    export_kwh: Decimal

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))


def contract_bill(ledger: Ledger, party: str, start: datetime, end: datetime) -> ContractBill:
    settled = ledger.contract_settlements(party, start, end)
    quantity: dict[tuple[str, str], Decimal] = {}
    amount: dict[tuple[str, str], Decimal] = {}
    for c in ledger.contract_charges(party, start, end):
        key = (c.component, c.unit)
        quantity[key] = quantity.get(key, Decimal(0)) + c.quantity
        amount[key] = amount.get(key, Decimal(0)) + c.amount
    keys = sorted(quantity, key=lambda k: _UNIT_ORDER.get(k[1], len(_UNIT_ORDER)))
    return ContractBill(
        start=start,
        end=end,
        currency=settled[0].currency if settled else "",
        lines=tuple(ComponentTotal(c, u, quantity[c, u], amount[c, u]) for c, u in keys),
        intervals=len(settled),
        import_kwh=sum((s.import_kwh for s in settled), Decimal(0)),
        export_kwh=sum((s.export_kwh for s in settled), Decimal(0)),
    )


def contract_bill_json(bill: ContractBill) -> dict[str, Any]:
    """Exact decimal strings."""
    return {
        "from": bill.start.isoformat(),
        "to": bill.end.isoformat(),
        "currency": bill.currency,
        "intervals": bill.intervals,
        "import_kwh": str(bill.import_kwh),
        "export_kwh": str(bill.export_kwh),
        "lines": [
            {"component": x.component, "unit": x.unit, "quantity": str(x.quantity), "amount": str(x.amount)}
            for x in bill.lines
        ],
        "total": str(bill.total),
    }
