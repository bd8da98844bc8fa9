"""Trades as JSON: transactions, forward positions, settlements and the tender book.

Ledger reads are blocking; the API runs these in a worker thread. Records are encoded with the
wire codec, so the API and the retailer link speak the same field names.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from agent.ledger import Ledger
from agent.market.codec import encode_tender, encode_transaction
from agent.market.intervals import Duration, intervals_between
from agent.market.settlement import Settlement
from agent.web.errors import RequestError

if TYPE_CHECKING:
    from agent.link.book import Offer
    from agent.runtime.app import RunningAgent

MAX_POSITION_INTERVALS = 3000


def transactions(ledger: Ledger, party: str, start: datetime, end: datetime, limit: int) -> dict[str, Any]:
    found = ledger.transactions(start, end, party)
    return {
        "count": len(found),
        "transactions": [encode_transaction(t) | {"side": _side(t.buyer, party)} for t in found[:limit]],
        "truncated": len(found) > limit,
    }


def _side(buyer: str, party: str) -> str:
    return "buy" if buyer == party else "sell"


def positions(
    ledger: Ledger, agent_tz: Any, *, party: str, start: datetime, end: datetime, duration: Duration
) -> dict[str, Any]:
    intervals = intervals_between(start, end, duration, agent_tz)
    if len(intervals) > MAX_POSITION_INTERVALS:
        raise RequestError(
            "end", f"{len(intervals)} intervals of {duration.value}; at most {MAX_POSITION_INTERVALS}"
        )
    values = ledger.positions(intervals, party) if intervals else []
    return {
        "duration": duration.value,
        "positions": [
            {"interval": i.start.isoformat(), "position_kw": str(v)}
            for i, v in zip(intervals, values, strict=True)
        ],
    }


def settlement_json(s: Settlement) -> dict[str, Any]:
    return {
        "interval": s.interval.to_wire(),
        "position_kw": str(s.position_kw),
        "scheduled_kwh": str(s.scheduled_kwh),
        "import_kwh": str(s.import_kwh),
        "export_kwh": str(s.export_kwh),
        "net_kwh": str(s.net_kwh),
        "deviation_kwh": str(s.deviation_kwh),
        "spot_price_per_kwh": str(s.spot_price_per_kwh),
        "amount": str(s.amount),
        "currency": s.currency,
        "flags": list(s.flags),
    }


def settlements(ledger: Ledger, party: str, start: datetime, end: datetime, limit: int) -> dict[str, Any]:
    found = ledger.settlements(start, end, party)
    return {
        "count": len(found),
        "settlements": [settlement_json(s) for s in found[-limit:]],
        "truncated": len(found) > limit,
    }


def _offers(offers: Sequence[Offer]) -> list[dict[str, Any]]:
    return [encode_tender(o.tender) | {"available_kw": str(o.available_kw)} for o in offers]


def tenders(agent: RunningAgent) -> dict[str, Any]:
    """The book now: the retailer's offers, transport, spot prices and the agent's own open tenders."""
    if agent.link is None:
        return {"link": False, "offers": [], "transport": [], "spot": [], "own": []}
    snap = agent.link.book.snapshot(agent.clock.now())
    return {
        "link": True,
        "version": snap.version,
        "offers": _offers(snap.offers),
        "transport": _offers(snap.transport),
        "spot": [
            {"interval": s.interval.to_wire(), "price": str(s.price_per_kwh), "currency": s.currency}
            for s in snap.spot
        ],
        "own": _offers(snap.own),
    }
