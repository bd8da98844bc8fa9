"""Trading decisions: pure functions from a plan to market actions (no I/O).

    actions = decide(plan, built, open_own_tenders, TradingRules.from_config(config), now)
    actions.accept      -> link.acceptance(tender_id, quantity_kw) for each
    actions.own.post    -> publish each (home's own tenders)
    actions.own.cancel  -> link.cancellation(tender_id) for each

See :mod:`agent.trading.accept`, :mod:`agent.trading.post` and :mod:`agent.trading.cancel` for
the rules.
"""

from agent.trading.accept import AcceptDecision, decide_acceptances
from agent.trading.cancel import Reconciliation, reconcile
from agent.trading.decide import TradeActions, decide
from agent.trading.errors import TradingError
from agent.trading.post import tender_id, tenders_from_bids
from agent.trading.rules import TradingRules

__all__ = [
    "AcceptDecision",
    "Reconciliation",
    "TradeActions",
    "TradingError",
    "TradingRules",
    "decide",
    "decide_acceptances",
    "reconcile",
    "tender_id",
    "tenders_from_bids",
]
