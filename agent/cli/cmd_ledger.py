"""``hems ledger``: positions, transactions, settlements and the bill for a period.

Under a household contract (``market.source: tariff``) the bill is the contract's, by component:
the energy and network parts, VAT, the export credit, standing and demand charges.

Reads the ledger in a state directory (it never writes records). The period defaults to the
current local day of the site; ``--from``/``--to`` take an ISO 8601 date (a local day's start)
or date-time (with an offset, or local site time without one). Figures are rounded for the table
only; ``--json`` prints them exactly.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from agent.ledger import Ledger, LedgerError
from agent.ledger.contract_bill import ContractBill
from agent.ledger.report import LedgerReport, build_report, to_json
from agent.market.errors import MarketError
from agent.market.intervals import Duration
from agent.units import money

EXIT_OK, EXIT_RUNTIME, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    def __init__(self, argument: str, message: str) -> None:
        super().__init__(f"{argument}: {message}")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "ledger",
        help="show positions, transactions, settlements and the bill for a period",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--state-dir", required=True, type=Path, help="the agent's state directory")
    p.add_argument("--from", dest="start", metavar="ISO", help="period start (default: today's start)")
    p.add_argument("--to", dest="end", metavar="ISO", help="period end, exclusive (default: a day later)")
    p.add_argument("--party", metavar="ID", help="whose book (default: the home party the ledger records)")
    p.add_argument("--interval", default="PT5M", metavar="DURATION", help="metering interval (PT5M)")
    p.add_argument("--json", action="store_true", help="machine-readable output with exact decimals")
    p.set_defaults(handler=run)


def parse_instant(text: str, tz: ZoneInfo, argument: str) -> datetime:
    try:
        if len(text) == 10:
            return _day_start(date.fromisoformat(text), tz)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(argument, f"not an ISO 8601 date or date-time: {text!r}") from None
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def _day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def _period(args: argparse.Namespace, tz: ZoneInfo) -> tuple[datetime, datetime]:
    if args.start is not None:
        start = parse_instant(args.start, tz, "--from")
    else:
        start = _day_start(datetime.now(tz).date(), tz)
    if args.end is not None:
        end = parse_instant(args.end, tz, "--to")
    else:
        end = _day_start(start.astimezone(tz).date() + timedelta(days=1), tz)
    if end <= start:
        raise UsageError("--to", f"{end.isoformat()} is not after --from {start.isoformat()}")
    return start, end


def run(args: argparse.Namespace) -> int:
    try:
        metering = Duration.parse(args.interval, "--interval")
    except MarketError as e:
        print(f"hems ledger: {e}", file=sys.stderr)
        return EXIT_USAGE
    try:
        ledger = Ledger.open(args.state_dir, create=False)
    except LedgerError as e:
        print(f"hems ledger: cannot open the ledger: {e}", file=sys.stderr)
        return EXIT_RUNTIME
    with ledger:
        try:
            start, end = _period(args, ledger.tz)
            party = args.party or ledger.home_party
            if party is None:
                raise UsageError("--party", "required: the ledger records no home party")
        except UsageError as e:
            print(f"hems ledger: {e}", file=sys.stderr)
            return EXIT_USAGE
        try:
            report = build_report(ledger, party, start, end, metering)
        except LedgerError as e:
            # A row the ledger cannot bill (one stored before the wire's bounds) is named, not a traceback.
            print(f"hems ledger: cannot make the report: {e}", file=sys.stderr)
            return EXIT_RUNTIME
    if args.json:
        json.dump(to_json(report), sys.stdout, indent=2)
        print()
    else:
        print(render(report, ledger.path))
    return EXIT_OK


# --- the table ------------------------------------------------------------------------------


def _r(value: Decimal, places: int) -> str:
    return str(money(value, places))


def _table(headers: list[str], body: list[list[str]], align: str) -> list[str]:
    """Rows under headers; ``align`` has one letter per column: l(eft) for text, r(ight) for numbers."""
    widths = [max(len(h), *(len(row[i]) for row in body)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        parts = [c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(cells, widths, align, strict=True)]
        return ("  " + "  ".join(parts)).rstrip()

    return [line(headers)] + [line(row) for row in body]


def render(report: LedgerReport, path: Path) -> str:
    out = [
        f"Ledger {path}",
        f"Party {report.party}, period {report.start.isoformat()} to {report.end.isoformat()}",
        "",
        f"Positions (kW per {report.metering.value} interval; runs of equal position)",
    ]
    runs = [
        [r.start.isoformat(), r.end.isoformat(), str(r.intervals), _r(r.position_kw, 3)]
        for r in report.positions
    ]
    out += _table(["from", "to", "intervals", "kW"], runs, "llrr") if runs else ["  none"]
    out += ["", f"Transactions ({len(report.transactions)})"]
    txs = [
        [
            t.id,
            t.product.value,
            f"{t.interval.start.isoformat()} {t.interval.duration.value}",
            "buy" if t.buyer == report.party else "sell",
            _r(t.quantity_kw, 3),
            _r(t.price_per_kwh, 4),
            t.currency,
        ]
        for t in report.transactions
    ]
    out += (
        _table(["id", "product", "interval", "side", "kW", "price/kWh", "cur"], txs, "llllrrl")
        if txs
        else ["  none"]
    )
    out += ["", f"Settlements ({len(report.settlements)})"]
    sts = [
        [
            s.interval.start.isoformat(),
            _r(s.position_kw, 3),
            _r(s.scheduled_kwh, 3),
            _r(s.net_kwh, 3),
            _r(s.deviation_kwh, 3),
            _r(s.spot_price_per_kwh, 4),
            _r(s.amount, 2),
            ",".join(s.flags) or "-",
        ]
        for s in report.settlements
    ]
    headers = ["interval", "pos kW", "sched kWh", "metered kWh", "dev kWh", "spot", "amount", "flags"]
    out += _table(headers, sts, "lrrrrrrl") if sts else ["  none"]
    bill = report.bill
    out += ["", f"Bill ({bill.currency or 'no items'}; + the home pays, - it is paid)"]
    out += _table(
        ["item", "amount"],
        [
            ["forward energy bought", _r(bill.forward_cost, 2)],
            ["forward energy sold", _r(-bill.forward_revenue, 2)],
            ["spot deviations", _r(bill.spot, 2)],
            ["transport", _r(bill.transport, 2)],
            ["total", _r(bill.total, 2)],
        ],
        "lr",
    )
    if report.contract.lines:
        out += ["", *_contract_table(report.contract)]
    return "\n".join(out)


def _contract_table(bill: ContractBill) -> list[str]:
    head = (
        f"Contract bill ({bill.currency}; {bill.intervals} metering intervals settled, "
        f"import {_r(bill.import_kwh, 3)} kWh, export {_r(bill.export_kwh, 3)} kWh; - is a credit)"
    )
    body = [[x.component, _r(x.quantity, 3), x.unit, _r(x.amount, 2)] for x in bill.lines]
    body.append(["total", "", "", _r(bill.total, 2)])
    return [head, *_table(["component", "quantity", "unit", "amount"], body, "lrlr")]
