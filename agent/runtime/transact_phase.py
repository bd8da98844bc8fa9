"""The *transact* phase: after each new plan, accept retailer tenders and post/cancel our own.

The decisions are :func:`agent.trading.decide`'s (pure); this module only carries them out
through the retailer link, one action at a time so a refused action (a tender that just expired,
a cap) is counted and logged without stopping the others. Everything sent goes through the
link's durable outbox, so a broker outage delays it but loses nothing.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.errors import HemsError
from agent.link import RetailerLink
from agent.runtime.plan_record import PlanRecord
from agent.trading import TradingRules, decide

log = logging.getLogger(__name__)


@dataclass
class TransactResult:
    accepted: int = 0
    posted: int = 0
    cancelled: int = 0
    kept: int = 0
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "posted": self.posted,
            "cancelled": self.cancelled,
            "kept": self.kept,
            "errors": self.errors[-10:],
        }


class TransactPhase:
    def __init__(self, link: RetailerLink, rules: TradingRules) -> None:
        self._link = link
        self._rules = rules
        self.done_version = 0
        self.totals: Counter[str] = Counter()
        self.last = TransactResult()

    async def run(self, record: PlanRecord, version: int, now: datetime) -> TransactResult:
        """Act on plan ``version`` once; later calls with the same version do nothing."""
        if version == self.done_version or not self._link.running:
            return TransactResult()
        self.done_version = version
        book = self._link.book.snapshot(now)
        open_own = [o.tender for o in book.own]
        open_kw = {o.tender.id: o.available_kw for o in book.own}
        actions = decide(record.plan, record.built, open_own, self._rules, now, open_own_kw=open_kw)
        result = TransactResult(kept=len(actions.own.keep))
        for a in actions.accept:
            if await self._do(
                result, f"accept {a.tender_id}", self._link.send_acceptance(a.tender_id, a.quantity_kw)
            ):
                result.accepted += 1
        for t in actions.own.cancel:
            if await self._do(result, f"cancel {t.id}", self._link.cancel(t.id)):
                result.cancelled += 1
        for t in actions.own.post:
            if await self._do(result, f"post {t.id}", self._link.post_tender(t)):
                result.posted += 1
        self.totals.update(
            {"accepted": result.accepted, "posted": result.posted, "cancelled": result.cancelled}
        )
        self.last = result
        return result

    async def _do(self, result: TransactResult, what: str, action: Awaitable[object]) -> bool:
        try:
            await action
        except HemsError as e:
            result.errors.append(f"{what}: {e}")
            self.totals["errors"] += 1
            log.info("transact: %s refused: %s", what, e)
            return False
        return True
