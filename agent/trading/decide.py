"""The transact phase in one call: acceptances, the home's own tenders, withdrawals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from agent.market.records import Tender
from agent.optimizer import Plan
from agent.planning.inputs import BuiltInputs
from agent.trading.accept import AcceptDecision, decide_acceptances
from agent.trading.cancel import Reconciliation, reconcile
from agent.trading.hedge import hedge_room_kw
from agent.trading.post import tenders_from_bids
from agent.trading.rules import TradingRules


@dataclass(frozen=True)
class TradeActions:
    accept: tuple[AcceptDecision, ...]
    own: Reconciliation  # .post: send; .cancel: withdraw; .keep: leave; .lapsed: expired by itself


def decide(
    plan: Plan,
    built: BuiltInputs,
    open_own: Sequence[Tender],
    rules: TradingRules,
    now: datetime,
    *,
    open_own_kw: Mapping[str, Decimal] | None = None,
) -> TradeActions:
    """What to do for ``plan`` (solved on ``built.inputs``, with ``bid_intervals`` for posting).

    With forward trading switched off nothing is accepted or posted and every open own tender
    is withdrawn: the home settles all it meters at spot.
    """
    if not rules.forward_trading:
        return TradeActions((), reconcile(open_own, (), rules, now, open_kw=open_own_kw))
    position_kw = built.inputs.grid.position_kw
    accept = decide_acceptances(plan, built.ladders.map, position_kw, rules, now)
    room_kw = hedge_room_kw(plan, built.intervals, position_kw, accept, rules.hedge_ratio)
    wanted = tenders_from_bids(plan, built.intervals, rules, now, ladders=built.ladders, room_kw=room_kw)
    return TradeActions(tuple(accept), reconcile(open_own, wanted, rules, now, open_kw=open_own_kw))
