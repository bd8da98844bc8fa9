"""The market prices of a virtual-time run under a household contract.

A time-of-use or flat contract stands on a fixed price: the agent's own source serves it (None
here). A dynamic day-ahead contract gets the agent's own :class:`DynamicPriceSource` — its cache
in the state directory, its refresh schedule and its estimates for intervals not yet published —
over :class:`~hil.fast.recorded_prices.RecordedDayAhead` in place of the service's HTTP client
(those clients are tested against local servers; no HTTP runs on virtual time). It works for any
``PriceService``: the config's ``market.source.market`` says only how often to look again and
how many days to estimate from.

An OpenADR price program's VEN is built by the agent as in the field, but no VTN runs:
:func:`feed_program` hands it the program's events (:mod:`hil.sim.program`) through its
``on_event``, as openleadr does when the VTN sends one, at each event's announcement time, and
tells its book the VTN answered every ``POLL_S`` (the VEN's poll), so ended intervals are billed
at their firm price as a polling VEN's are.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from agent.clock import Clock
from agent.config import Config
from agent.config.price_service import FetchedMarketPrice
from agent.openadr import OpenAdrVen
from agent.tariff.market_source import dynamic_source
from agent.tariff.sources import MarketPriceSource
from hil.fast.clock import VirtualClock
from hil.fast.recorded_prices import RecordedDayAhead
from hil.sim.program import ScheduledEvent
from hil.sim.scenario import Scenario
from hil.sim.tariff import home_prices


def recorded_market_prices(scenario: Scenario, config: Config, clock: Clock) -> MarketPriceSource | None:
    """The recorded-price source of a dynamic contract, or None where the contract's own serves."""
    tariff = config.market.tariff
    contract = scenario.contract
    if contract is None or tariff is None or not isinstance(tariff.market, FetchedMarketPrice):
        return None
    recorded = home_prices(scenario.home, scenario.start, run_seed=scenario.seed)
    service = RecordedDayAhead(
        tariff.market.type,
        recorded.at,
        currency=config.site.currency,
        zone=config.zone,
        clock=clock,
        publish_at=contract.publish_at,
    )
    return dynamic_source(config, tariff.market, service, clock)


_log = logging.getLogger("hil.fast")

POLL_S = 60.0  # simulated seconds between the VEN's polls of the VTN


async def feed_program(ven: OpenAdrVen, events: list[ScheduledEvent], clock: VirtualClock) -> None:
    """Announce each event at its time and answer the VEN's polls; until cancelled."""
    pending = sorted(events, key=lambda e: e.announce_at)
    while True:
        now = clock.now()
        while pending and pending[0].announce_at <= now:
            scheduled = pending.pop(0)
            answer = await ven.on_event(scheduled.event)
            _log.info(
                "program event %s announced: %s", scheduled.event["event_descriptor"]["event_id"], answer
            )
        ven.book.heard()
        wake: datetime = clock.now() + timedelta(seconds=POLL_S)
        if pending and pending[0].announce_at < wake:
            wake = pending[0].announce_at
        await clock.until(wake)
