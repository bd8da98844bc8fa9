"""OpenADR 2.0b price programs: the home's VEN, and the program's events as the tariff's market price."""

from __future__ import annotations

from agent.clock import Clock
from agent.config import Config
from agent.config.openadr import OpenAdrMarket
from agent.openadr.book import CACHE_FILE, ProgramBook
from agent.openadr.errors import OpenAdrError, ProgramCacheError, SignalError
from agent.openadr.signals import PriceSpan, ProgramEvent, read_event
from agent.openadr.ven import OpenAdrVen, UsageReader

__all__ = [
    "CACHE_FILE",
    "OpenAdrError",
    "OpenAdrVen",
    "PriceSpan",
    "ProgramBook",
    "ProgramCacheError",
    "ProgramEvent",
    "SignalError",
    "UsageReader",
    "build_book",
    "build_ven",
    "openadr_market",
    "read_event",
]


def openadr_market(config: Config) -> OpenAdrMarket | None:
    """The OpenADR program the config's tariff stands on, if it stands on one."""
    tariff = config.market.tariff
    return tariff.market if tariff is not None and isinstance(tariff.market, OpenAdrMarket) else None


def build_book(config: Config, market: OpenAdrMarket, clock: Clock) -> ProgramBook:
    """The program's book with what was saved in the state directory (an unreadable save is
    reported and the book starts empty: the base rate until the VTN is heard)."""
    book = ProgramBook(
        market.price_per_kwh,
        config.site.currency,
        config.zone,
        clock,
        step=config.planner.step,
        hold_s=market.hold_h * 3600.0,
        state_dir=config.state_dir,
    )
    try:
        book.load()
    except ProgramCacheError as e:
        import logging

        logging.getLogger(__name__).warning("OpenADR: saved program ignored: %s", e)
    return book


def build_ven(
    config: Config, market: OpenAdrMarket, clock: Clock, *, usage_w: UsageReader | None = None
) -> OpenAdrVen:
    return OpenAdrVen(market, build_book(config, market, clock), clock, config.site.currency, usage_w=usage_w)
