"""Whether an inbound transaction is one the home agreed to: the rules the ledger's evidence is
judged by before a transaction is booked.

A transaction is money owed, so it is booked only when it matches something the home did:

* an **acceptance** the home sent of a retailer energy tender: same interval and price as the
  tender, the home on the side opposite the tender's issuer, and no more kilowatts than the home
  accepted (all acceptances of the tender together, less what is already executed on it);
* a **tender the home posted**, executed by its counterparty: same interval and price, the
  counterparty (the retailer unless the tender names one) on the other side, no more than the
  tender's quantity less what is already executed on it;
* a **transport tender** the home received from the distribution operator or the retailer,
  charging the network for what flowed: the transaction's interval inside the tender's, the same
  price, nodes and issuer, and no more energy than the home's own settlements metered over that
  interval in the tender's direction (import when it runs to the home, export when from it).

Anything else is refused with a :class:`~agent.market.errors.CodecError` naming the wire field
that does not match (``tender_id`` when there is nothing to match), and the ledger is unchanged.
"""

from __future__ import annotations

from decimal import Decimal

from agent.ledger.evidence import Evidence
from agent.link.settings import LinkSettings
from agent.market.errors import CodecError
from agent.market.records import Product, Side, Tender, Transaction, interval_hours


def _refuse(tx: Transaction, field: str, reason: str) -> CodecError:
    return CodecError(field, reason, tx.id)


def _parties(tx: Transaction, home: str, other: str, home_buys: bool) -> None:
    buyer, seller = (home, other) if home_buys else (other, home)
    if tx.buyer != buyer:
        raise _refuse(tx, "buyer", f"{tx.buyer!r} is not the buyer of tender {tx.tender_id} ({buyer!r})")
    if tx.seller != seller:
        raise _refuse(tx, "seller", f"{tx.seller!r} is not the seller of tender {tx.tender_id} ({seller!r})")


def _terms(tx: Transaction, t: Tender, *, exact_interval: bool) -> None:
    if tx.product is not t.product:
        raise _refuse(tx, "product", f"tender {t.id} is {t.product.value}, not {tx.product.value}")
    if exact_interval and tx.interval != t.interval:
        raise _refuse(tx, "interval.start", f"not the interval of tender {t.id} ({t.interval})")
    if not exact_interval and not t.interval.contains_interval(tx.interval):
        raise _refuse(tx, "interval.start", f"not inside the interval of tender {t.id} ({t.interval})")
    if tx.price_per_kwh != t.price_per_kwh:
        raise _refuse(
            tx, "price", f"{tx.price_per_kwh} is not the price of tender {t.id} ({t.price_per_kwh})"
        )
    if tx.currency != t.currency:
        raise _refuse(tx, "currency", f"{tx.currency!r} is not the currency of tender {t.id}")
    for field, got, wanted in (("from", tx.from_node, t.from_node), ("to", tx.to_node, t.to_node)):
        if got != wanted:
            raise _refuse(tx, field, f"{got!r} is not the node of tender {t.id} ({wanted!r})")


def _within(tx: Transaction, ev: Evidence, limit_kw: Decimal, what: str) -> None:
    executed = sum((x.quantity_kw for x in ev.executed if x.id != tx.id), Decimal(0))
    left = limit_kw - executed
    if tx.quantity_kw > left:
        raise _refuse(
            tx,
            "quantity_kw",
            f"{tx.quantity_kw} kW exceeds the {max(left, Decimal(0))} kW {what} on {tx.tender_id} "
            f"not yet executed",
        )


def _transport(s: LinkSettings, tx: Transaction, ev: Evidence) -> None:
    t = ev.received
    if t is None or t.product is not Product.TRANSPORT:
        raise _refuse(tx, "tender_id", f"{tx.tender_id!r} is not a transport tender the home received")
    if t.party not in (s.retailer_party, s.distribution_party):
        raise _refuse(tx, "tender_id", f"tender {t.id} is from {t.party!r}, not the grid's operator")
    _parties(tx, s.home_party, t.party, home_buys=t.side is Side.SELL)
    _terms(tx, t, exact_interval=False)
    if ev.metered is None:
        raise _refuse(
            tx, "interval.start", "the home has not settled this interval: nothing metered to charge"
        )
    if t.to_node is not None and t.to_node == s.home_party:
        metered_kwh = ev.metered.import_kwh
    elif t.from_node is not None and t.from_node == s.home_party:
        metered_kwh = ev.metered.export_kwh
    else:
        raise _refuse(tx, "to", f"tender {t.id} runs neither to nor from the home {s.home_party!r}")
    # Charges already booked on this tender for the same stretch count too: a replay under a
    # new id must not charge the same energy twice.
    already_kwh = sum(
        (x.energy_kwh for x in ev.executed if x.id != tx.id and tx.interval.overlaps(x.interval)), Decimal(0)
    )
    if already_kwh + tx.quantity_kw * interval_hours(tx.interval) > metered_kwh:
        raise _refuse(
            tx,
            "quantity_kw",
            f"{tx.energy_kwh} kWh (and {already_kwh} kWh charged before) exceeds the {metered_kwh} kWh "
            "the home metered",
        )


def check(s: LinkSettings, tx: Transaction, ev: Evidence) -> None:
    """Refuse ``tx`` (a CodecError naming the field) unless it matches what the home did."""
    if tx.product is Product.TRANSPORT:
        _transport(s, tx, ev)
        return
    own = ev.posted
    if own is not None:
        counterparty = own.counterparty or s.retailer_party
        _parties(tx, s.home_party, counterparty, home_buys=own.side is Side.BUY)
        _terms(tx, own, exact_interval=True)
        _within(tx, ev, own.quantity_kw, "posted")
        return
    t = ev.received
    if t is None or t.product is not Product.ENERGY:
        raise _refuse(
            tx, "tender_id", f"{tx.tender_id!r} is neither a tender the home accepted nor one it posted"
        )
    if ev.accepted_kw <= 0:
        raise _refuse(tx, "tender_id", f"the home never accepted tender {t.id}")
    _parties(tx, s.home_party, t.party, home_buys=t.side is Side.SELL)
    _terms(tx, t, exact_interval=True)
    _within(tx, ev, min(ev.accepted_kw, t.quantity_kw), "accepted")
