"""Today's and this month's bill (forward + spot + transport) next to a flat tariff.

Under a household contract (``market.source: tariff``) the bill also carries ``contract``: the
contract's bill by component, as the ledger booked it (agent/ledger/contract_bill.py).

The flat comparison prices the same metered energy (counter deltas of the grid meter's import
and export registers, read from the ledger) at the configured flat import and feed-in prices, so
the householder sees what trading saved or cost. Money stays Decimal; JSON carries strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any

from agent.config import Config
from agent.ledger import Ledger
from agent.ledger.contract_bill import contract_bill, contract_bill_json
from agent.market.intervals import Duration, containing
from agent.market.settlement import Bill


@dataclass(frozen=True, slots=True)
class Metered:
    import_kwh: Decimal
    export_kwh: Decimal
    readings: int


def metered(ledger: Ledger, meter: str, start: datetime, end: datetime) -> Metered:
    found = ledger.readings(meter, start, end)
    if len(found) < 2:
        return Metered(Decimal(0), Decimal(0), len(found))
    return Metered(_rises(r.import_kwh for r in found), _rises(r.export_kwh for r in found), len(found))


def _rises(values: Iterable[Decimal]) -> Decimal:
    # Only increases count: a meter swapped or reset mid-period must not read as its whole
    # counter of energy (the settlement flags such intervals; a comparison just skips the step).
    return sum((max(Decimal(0), b - a) for a, b in pairwise(values)), Decimal(0))


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.0001")))


def bill_json(bill: Bill, flat: dict[str, Any] | None = None, *, lines: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "party": bill.party,
        "start": bill.start.isoformat(),
        "end": bill.end.isoformat(),
        "currency": bill.currency,
        "forward": _money(bill.forward),
        "forward_cost": _money(bill.forward_cost),
        "forward_revenue": _money(bill.forward_revenue),
        "spot": _money(bill.spot),
        "transport": _money(bill.transport),
        "total": _money(bill.total),
        "line_count": len(bill.lines),
    }
    if flat is not None:
        out["flat"] = flat
    if lines:
        out["lines"] = [
            {
                "kind": line.kind.value,
                "ref": line.ref,
                "interval": line.interval.start.isoformat(),
                "energy_kwh": str(line.energy_kwh),
                "price_per_kwh": str(line.price_per_kwh),
                "amount": str(line.amount),
            }
            for line in bill.lines
        ]
    return out


def period_bill(
    ledger: Ledger, config: Config, start: datetime, end: datetime, *, lines: bool = False
) -> dict[str, Any]:
    """Blocking (ledger reads): run it in a thread."""
    bill = ledger.bill(config.party_id, start, end)
    m = metered(ledger, config.meter_name, start, end)
    flat_cost = m.import_kwh * config.web.flat_tariff_per_kwh - m.export_kwh * config.web.flat_feed_in_per_kwh
    flat = {
        "import_kwh": str(m.import_kwh.quantize(Decimal("0.001"))),
        "export_kwh": str(m.export_kwh.quantize(Decimal("0.001"))),
        "tariff_per_kwh": str(config.web.flat_tariff_per_kwh),
        "feed_in_per_kwh": str(config.web.flat_feed_in_per_kwh),
        "total": _money(flat_cost),
        "saving": _money(flat_cost - bill.total),
        "readings": m.readings,
    }
    out = bill_json(bill, flat, lines=lines)
    if config.market.tariff is not None:
        contract = contract_bill(ledger, config.party_id, start, end)
        out["contract"] = contract_bill_json(contract) | {
            "name": config.market.tariff.name,
            "currency": config.site.currency,
        }
    return out


def summary(ledger: Ledger, config: Config, now: datetime) -> dict[str, Any]:
    """Today and this month so far (local calendar of the site). Blocking: run it in a thread."""
    day = containing(now, Duration.P1D, config.zone)
    month = containing(now, Duration.P1M, config.zone)
    return {
        "today": period_bill(ledger, config, day.start_utc, now),
        "month": period_bill(ledger, config, month.start_utc, now),
    }
