"""What the link remembers across a restart, read back from the ledger and the outbox.

The book is in memory only; after a restart it is rebuilt from disk: retailer tenders still
open, the home's own tenders not withdrawn, executed quantities, recent spot prices and the
acceptances the home has sent (so their kilowatts stay reserved). Tenders the home queued but
that may not have reached the ledger before the stop are recorded as posted now.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from agent.ledger import Ledger
from agent.link.book import SPOT_KEEP, TenderBook
from agent.link.messages import Acceptance, decode_acceptance, decode_cancellation
from agent.link.outbox import Outbox
from agent.link.settings import LinkSettings
from agent.link.topics import Outbound
from agent.market import codec
from agent.market.errors import CodecError
from agent.market.records import SpotPrice, Tender, Transaction

_log = logging.getLogger("agent.link")


@dataclass
class Remembered:
    posted_ids: set[str] = field(default_factory=set)
    tenders: list[Tender] = field(default_factory=list)
    transactions: list[Transaction] = field(default_factory=list)
    spot: list[SpotPrice] = field(default_factory=list)
    acceptances: list[Acceptance] = field(default_factory=list)
    pending: int = 0

    def into(self, book: TenderBook) -> None:
        for t in self.tenders:
            book.add_tender(t)
        for tx in self.transactions:
            book.add_transaction(tx)
        for s in self.spot:
            book.set_spot(s)
        for a in self.acceptances:
            book.reserve(a.tender_id, a.id, a.quantity_kw)


def remember(settings: LinkSettings, outbox: Outbox, ledger: Ledger, now: datetime) -> Remembered:
    """Blocking (SQLite reads and idempotent writes): run it in a worker thread."""
    out = Remembered()
    sent = outbox.rows()
    withdrawn = {decode_cancellation(r.payload).tender_id for r in sent if r.kind == Outbound.CANCEL}
    for row in sent:
        if row.kind == Outbound.ACCEPT:
            a = decode_acceptance(row.payload)
            out.acceptances.append(a)
            # Queued by a version that did not yet record acceptances in the ledger.
            ledger.add_acceptance(a.id, a.tender_id, a.party, a.quantity_kw, a.sent)
        elif row.kind == Outbound.TENDER:
            try:
                tender = codec.decode_tender(row.payload, settings.codec_context(None))
            except CodecError as e:  # queued under another config (currency, caps)
                _log.warning("outbox tender %s no longer decodes: %s", row.message_id, e)
                continue
            out.posted_ids.add(tender.id)
            ledger.add_posted_tender(tender)
    out.tenders += [t for t in ledger.received_tenders(now) if not t.is_expired(now)]
    out.tenders += [t for t in ledger.posted_tenders(now) if not t.is_expired(now) and t.id not in withdrawn]
    out.transactions = ledger.transactions(now, None, settings.home_party)
    out.spot = ledger.spot_prices(now - SPOT_KEEP)
    out.pending = outbox.pending_count()
    return out
