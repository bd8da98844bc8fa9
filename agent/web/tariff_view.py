"""The household contract on the page: the next hours' import and export prices and their state.

Each price is ``firm`` (the contract's, or published by the price service), ``indicative`` (a
contract that says its prices are a forecast) or ``estimated`` (a day-ahead price not published
yet: the mean of earlier days at the same time). ``notice`` says in plain words why prices are
estimated — the service has not published tomorrow's yet, or it is down and the agent runs on
its last prices — so the householder is never shown a guess as a fact.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from agent.market.intervals import containing, intervals_between
from agent.tariff.dynamic import DynamicPriceSource
from agent.tariff.errors import TariffError
from agent.tariff.household import HouseholdPrice

if TYPE_CHECKING:
    from agent.runtime.app import RunningAgent

DEFAULT_HOURS = 24
MAX_HOURS = 48
# A look-up may ask the price service (bounded at 20 s in agent/tariff/dynamic.py).
PRICE_TIMEOUT_S = 25.0


async def tariff_json(agent: RunningAgent, hours: int) -> dict[str, Any]:
    cp = agent.tariff
    if cp is None:
        return {"configured": False}
    config = agent.config
    step = config.planner.step
    first = containing(agent.clock.now(), step, config.zone)
    end = first.start_utc + timedelta(hours=hours)
    intervals = intervals_between(first.start_utc, end, step, config.zone)
    problem: str | None = None
    prices: list[HouseholdPrice] = []
    try:
        prices = await asyncio.wait_for(cp.prices(intervals), PRICE_TIMEOUT_S)
    except TariffError as e:
        problem = str(e)
    except TimeoutError:
        problem = f"no prices within {PRICE_TIMEOUT_S:g} s"
    source = cp.source
    dynamic = source if isinstance(source, DynamicPriceSource) else None
    down = dynamic is not None and dynamic.down
    last_error = dynamic.last_error if dynamic is not None else None
    estimated = next((p for p in prices if p.state == "estimated"), None)
    return {
        "configured": True,
        "name": cp.name,
        "party": cp.party,
        "currency": config.site.currency,
        "step": step.value,
        "source": {
            "name": dynamic.name if dynamic is not None else "fixed",
            "down": down,
            "last_error": last_error,
        },
        "estimated_from": estimated.interval.start.isoformat() if estimated is not None else None,
        "notice": _notice(prices, estimated, down, last_error, problem),
        "prices": [
            {
                "start": p.interval.start.isoformat(),
                "duration": p.interval.duration.value,
                "period": p.period,
                "state": p.state,
                "import_per_kwh": str(p.import_per_kwh),
                "export_per_kwh": str(p.export_per_kwh),
            }
            for p in prices
        ],
    }


def _notice(
    prices: list[HouseholdPrice],
    estimated: HouseholdPrice | None,
    down: bool,
    last_error: str | None,
    problem: str | None,
) -> str:
    if problem is not None:
        return f"No prices to plan with ({problem}): the agent runs on its safe rules until prices return."
    since = "" if estimated is None else estimated.interval.start.strftime("%a %H:%M")
    if down and estimated is not None:
        return (
            f"The price service is down ({last_error}): the agent runs on its last prices; "
            f"from {since} the prices are estimated (the mean of earlier days at the same time)."
        )
    if down:
        return f"The price service is down ({last_error}): the prices shown are the last it published."
    if estimated is not None:
        return (
            f"Tomorrow's prices are not published yet: from {since} the prices are estimated "
            "(the mean of earlier days at the same time) until the service publishes them."
        )
    if any(p.state == "indicative" for p in prices):
        return "The contract's prices are indicative: a forecast, not yet the price billed."
    return "All prices shown are firm."
