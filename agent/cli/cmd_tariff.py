"""``hems tariff --config FILE [--hours N] [--json] [--start ISO] [--bill]``: the contract's prices.

Prints, per plan interval of the next N hours, the import and export prices of the household's
contract (``market.source: {type: tariff}``), their period, source and state (firm, indicative,
estimated), and the standing tenders they become. With ``--bill``, bills the meter readings
stored in the ledger over those hours by the contract, line by component. Exit codes: 0 printed;
1 the prices or the bill could not be made (no ledger); 2 a bad config, a config without a tariff
source, or a bad option.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from agent.clock import RealClock
from agent.config import Config, ConfigError, load_config
from agent.config.octopus import OctopusMarketPrice
from agent.config.openadr import OpenAdrMarket
from agent.config.tariff import EntsoeMarketPrice, FixedMarketPrice
from agent.ledger import Ledger, LedgerError
from agent.market.intervals import containing, intervals_between
from agent.market.records import Tender
from agent.market.settlement import DEFAULT_READING_TOLERANCE
from agent.openadr import ProgramBook, build_book, openadr_market
from agent.tariff import HouseholdPrice, TariffCounterparty, TariffError, bill_lines
from agent.tariff.metered import metered

EXIT_OK, EXIT_RUNTIME, EXIT_USAGE = 0, 1, 2
MAX_HOURS = 24 * 31


def register(sub: Any) -> None:
    p = sub.add_parser(
        "tariff",
        help="show the next hours of the household tariff's prices and the tenders they become",
        description="Price the next N hours under the config's tariff (market.source: {type: tariff}).",
    )
    p.add_argument("--config", required=True, type=Path, help="the hems config file")
    p.add_argument("--hours", type=int, default=48, help="hours ahead to show (default 48)")
    p.add_argument("--json", action="store_true", help="prices, components and tenders as JSON")
    p.add_argument("--start", help="ISO 8601 instant with offset to start from (default: now)")
    p.add_argument(
        "--bill",
        action="store_true",
        help="bill the metered energy stored in the ledger over these hours, by component "
        "(start a tiered rate's bill at the start of its billing month)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.hours <= MAX_HOURS:
        print(f"hems tariff: --hours must be 1..{MAX_HOURS} (got {args.hours})", file=sys.stderr)
        return EXIT_USAGE
    try:
        config = load_config(args.config)
    except ConfigError as e:
        print(e, file=sys.stderr)
        return EXIT_USAGE
    if config.market.tariff is None:
        print(f"hems tariff: {args.config}: market.source is not a tariff", file=sys.stderr)
        return EXIT_USAGE
    try:
        start = _start(args.start)
    except ValueError as e:
        print(f"hems tariff: --start: {e}", file=sys.stderr)
        return EXIT_USAGE
    first = containing(start, config.planner.step, config.zone)
    intervals = intervals_between(
        first.start_utc, start + timedelta(hours=args.hours), config.planner.step, config.zone
    )
    book = _openadr_book(config)
    counterparty = TariffCounterparty(config, book)
    if args.bill and book is not None:
        # The VEN keeps the events ahead, not the prices of hours gone by: a bill from them would
        # price past events at the base rate. The utility's bill is the reference there.
        print(
            f"hems tariff: {args.config}: --bill is not available under an OpenADR price program "
            "(past event prices are not kept)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.bill:
        return _bill(
            config, counterparty, intervals[0].start_utc, start + timedelta(hours=args.hours), args.json
        )
    try:
        quoted = asyncio.run(counterparty.quote(intervals))
    except TariffError as e:
        print(f"hems tariff: {e}", file=sys.stderr)
        return EXIT_RUNTIME
    if args.json:
        doc = _as_json(config, counterparty, quoted.prices, quoted.tenders)
        if book is not None:
            doc["openadr"] = _openadr_json(config, book)
        json.dump(doc, sys.stdout, indent=1)
        print()
    else:
        print(_table(config, counterparty, quoted.prices, book))
    return EXIT_OK


def _start(text: str | None) -> datetime:
    if text is None:
        return RealClock().now()
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"needs a UTC offset, e.g. 2026-07-15T00:00:00-07:00 (got {text!r})")
    return value


def _money(value: Decimal) -> str:
    # Exact, without exponent notation or trailing zeros beyond what the contract gave.
    text = format(value.normalize(), "f")
    return text if "." in text else f"{text}.0"


def _as_json(
    config: Config, cp: TariffCounterparty, prices: list[HouseholdPrice], tenders: list[Tender]
) -> dict[str, Any]:
    tariff = config.market.tariff
    assert tariff is not None
    return {
        "tariff": cp.name,
        "party": cp.party,
        "currency": config.site.currency,
        "source": tariff.market.type,
        "fixed_per_day": {k: _money(v) for k, v in tariff.fixed_per_day.items()},
        "fixed_per_month": {k: _money(v) for k, v in tariff.fixed_per_month.items()},
        "demand": None
        if tariff.demand is None
        else {"per_kw": _money(tariff.demand.per_kw), "periods": tariff.demand.periods},
        "intervals": [
            {
                "start": p.interval.start.isoformat(),
                "duration": p.interval.duration.value,
                "hours": p.interval.hours,
                "period": p.period,
                "holiday": cp.calendar.holiday_name(p.interval.start.date()),
                "source": tariff.market.type,
                "state": p.state,
                "market_per_kwh": _money(p.market_per_kwh),
                "import_per_kwh": _money(p.import_per_kwh),
                "export_per_kwh": _money(p.export_per_kwh),
                "import_parts": {k: _money(v) for k, v in p.import_parts.items()},
            }
            for p in prices
        ],
        "tenders": [
            {
                "id": t.id,
                "party": t.party,
                "counterparty": t.counterparty,
                "side": t.side.value,
                "start": t.interval.start.isoformat(),
                "duration": t.interval.duration.value,
                "quantity_kw": _money(t.quantity_kw),
                "price_per_kwh": _money(t.price_per_kwh),
                "actionable": t.actionable,
            }
            for t in tenders
        ],
    }


def _openadr_book(config: Config) -> ProgramBook | None:
    """The price program as the running agent last heard it (saved in the state directory): the
    command never registers a second VEN with the utility's VTN."""
    market = openadr_market(config)
    return build_book(config, market, RealClock()) if market is not None else None


def _openadr_json(config: Config, book: ProgramBook) -> dict[str, Any]:
    market = openadr_market(config)
    assert market is not None
    return {
        "vtn_url": market.vtn_url,
        "ven_name": market.ven_name,
        "base_per_kwh": _money(market.price_per_kwh),
        "last_heard": book.last_heard.isoformat() if book.last_heard else None,
        "held": book.held(),
        "events": [
            {
                "event_id": e.event_id,
                "modification_number": e.modification_number,
                "priority": e.priority,
                "market_context": e.market_context,
                "start": e.spans[0].start.isoformat(),
                "end": e.spans[-1].end.isoformat(),
            }
            for e in book.events
        ],
    }


def _source_text(config: Config, book: ProgramBook | None) -> str:
    tariff = config.market.tariff
    assert tariff is not None
    market = tariff.market
    program = openadr_market(config)
    if program is not None and book is not None:
        if book.last_heard is None:
            heard = "not heard yet (no saved program in the state directory): the base rate"
        elif book.held():
            heard = f"last heard {book.last_heard.isoformat()}, {len(book.events)} event(s)"
        else:
            heard = f"last heard {book.last_heard.isoformat()}, longer ago than hold_h: the base rate"
        rate = f"{_money(program.price_per_kwh)} {config.site.currency}/kWh"
        return f"OpenADR VTN {program.vtn_url} as VEN {program.ven_name!r}, {heard}; market base rate {rate}"
    if isinstance(market, FixedMarketPrice | OpenAdrMarket):
        return f"{market.type} at {_money(market.price_per_kwh)} {config.site.currency}/kWh"
    if isinstance(market, OctopusMarketPrice):
        vat = "with VAT" if market.vat_included else "before VAT"
        return f"octopus unit rates of {market.tariff_code} ({vat}); after the last published rate: estimated"
    where = market.zone if isinstance(market, EntsoeMarketPrice) else market.country.upper()
    return f"{market.type} day-ahead prices ({where}); after the last published price: estimated"


def _table(
    config: Config, cp: TariffCounterparty, prices: list[HouseholdPrice], book: ProgramBook | None = None
) -> str:
    cur = config.site.currency
    lines = [
        f"{cp.name} (party {cp.party}; prices in {cur}/kWh; sell tender = import, buy tender = export)",
        f"market price source: {_source_text(config, book)}; tenders are quotes (actionable: false)",
        f"{'start':25} {'dur':5} {'period':18} {'state':10} {'import':>9} {'export':>9}",
    ]
    for p in prices:
        holiday = cp.calendar.holiday_name(p.interval.start.date())
        lines.append(
            f"{p.interval.start.isoformat():25} {p.interval.duration.value:5} {p.period:18} {p.state:10} "
            f"{p.import_per_kwh:9.4f} {p.export_per_kwh:9.4f}" + (f"  {holiday}" if holiday else "")
        )
    return "\n".join(lines)


def _bill(config: Config, cp: TariffCounterparty, start: datetime, end: datetime, as_json: bool) -> int:
    tariff = config.market.tariff
    assert tariff is not None
    metering = intervals_between(start, end, config.metering_interval, config.zone)
    try:
        with Ledger.open(config.state_dir, create=False) as ledger:
            readings = ledger.readings(
                config.meter_name,
                metering[0].start_utc - DEFAULT_READING_TOLERANCE,
                metering[-1].end_utc + DEFAULT_READING_TOLERANCE,
            )
        plan_step = intervals_between(start, metering[-1].end_utc, config.planner.step, config.zone)
        prices = asyncio.run(cp.prices(plan_step))
        found = metered(readings, metering, config.party_id)
        lines = bill_lines(tariff, prices, found.deliveries)
    except (LedgerError, TariffError) as e:
        print(f"hems tariff: {e}", file=sys.stderr)
        return EXIT_RUNTIME
    total = sum((line.amount for line in lines), Decimal(0))
    unmetered = [iv.start.isoformat() for iv in found.unmetered]
    if as_json:
        doc = {
            "tariff": cp.name,
            "currency": config.site.currency,
            "lines": [
                {
                    "component": x.component,
                    "quantity": _money(x.quantity),
                    "unit": x.unit,
                    "amount": _money(x.amount),
                }
                for x in lines
            ],
            "total": _money(total),
            "unmetered": unmetered,
        }
        json.dump(doc, sys.stdout, indent=1)
        print()
        return EXIT_OK
    print(f"{cp.name}: bill from {metering[0].start.isoformat()} to {metering[-1].end.isoformat()}")
    for x in lines:
        print(f"  {x.component:20} {x.quantity:>12.3f} {x.unit:5} {x.amount:>12.2f} {config.site.currency}")
    print(f"  {'total':20} {'':>12} {'':5} {total:>12.2f} {config.site.currency}")
    if unmetered:
        print(f"  not billed: {len(unmetered)} interval(s) without meter readings, first {unmetered[0]}")
    return EXIT_OK
