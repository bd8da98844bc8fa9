"""Which of the home's open tenders stand, which are withdrawn, which new ones go out.

Given the tenders the home has open (``open_kw``: what is still unexecuted of each) and the set
the new plan wants (:func:`agent.trading.post.tenders_from_bids`):

* an open tender already expired lapses by itself (reported, not cancelled);
* one whose interval has begun or lies beyond the commitment window is cancelled;
* one that matches a wanted tender of the same interval and side *and is no worse for the home*
  stands, and that wanted tender is not posted again. No worse: for a buy, a price at most the
  wanted price and at least ``price_tolerance`` below it; for a sell, the mirror; a quantity
  at most the wanted one and at least ``quantity_tolerance`` below it. So a standing tender is
  always one the new plan would accept, and solver noise causes no churn;
* every other open tender is cancelled (price moved, quantity changed, no longer bid);
* every wanted tender not matched is posted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from agent.market.records import Side, Tender
from agent.trading.rules import TradingRules


@dataclass(frozen=True)
class Reconciliation:
    post: tuple[Tender, ...]
    cancel: tuple[Tender, ...]
    keep: tuple[Tender, ...]
    lapsed: tuple[Tender, ...]
    reasons: Mapping[str, str] = field(default_factory=dict)  # cancelled id -> why


def reconcile(
    open_tenders: Sequence[Tender],
    wanted: Sequence[Tender],
    rules: TradingRules,
    now: datetime,
    *,
    open_kw: Mapping[str, Decimal] | None = None,
) -> Reconciliation:
    left = {t.id: t for t in wanted}
    post_order = [t.id for t in wanted]
    keep: list[Tender] = []
    cancel: list[Tender] = []
    lapsed: list[Tender] = []
    reasons: dict[str, str] = {}
    for t in sorted(open_tenders, key=lambda x: x.id):
        if t.is_expired(now):
            lapsed.append(t)
            continue
        if not rules.in_window(t.interval, now):
            cancel.append(t)
            reasons[t.id] = "its interval has begun or lies beyond the commitment window"
            continue
        remaining = t.quantity_kw if open_kw is None else open_kw.get(t.id, t.quantity_kw)
        match = _best_match(t, remaining, left.values(), rules)
        if match is None:
            cancel.append(t)
            reasons[t.id] = _why(t, wanted)
            continue
        keep.append(t)
        del left[match.id]
    post = tuple(left[i] for i in post_order if i in left)
    return Reconciliation(post, tuple(cancel), tuple(keep), tuple(lapsed), reasons)


def _best_match(
    t: Tender, remaining: Decimal, candidates: Iterable[Tender], rules: TradingRules
) -> Tender | None:
    best: tuple[Decimal, Decimal, str] | None = None
    chosen: Tender | None = None
    for w in candidates:
        if w.interval != t.interval or w.side is not t.side:
            continue
        # How much better the wanted price is than the open one, for the home (>= 0 required).
        give = w.price_per_kwh - t.price_per_kwh if t.side is Side.BUY else t.price_per_kwh - w.price_per_kwh
        short = w.quantity_kw - remaining
        if not (0 <= give <= rules.price_tolerance_per_kwh and 0 <= short <= rules.quantity_tolerance_kw):
            continue
        rank = (give, short, w.id)
        if best is None or rank < best:
            best, chosen = rank, w
    return chosen


def _why(t: Tender, wanted: Sequence[Tender]) -> str:
    same = [w for w in wanted if w.interval == t.interval and w.side is t.side]
    if not same:
        return "the new plan bids nothing there"
    return "price or quantity moved beyond the tolerance"
