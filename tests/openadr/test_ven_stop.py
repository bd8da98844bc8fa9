"""Stopping the VEN always stops it, even in the loop pass in which its registration completes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from agent.clock import Clock, RealClock
from agent.config.openadr import OpenAdrMarket
from agent.openadr import OpenAdrVen, build_book, openadr_market
from agent.openadr.book import ProgramBook
from tests.openadr.conftest import home_config
from tests.openadr.vtn_process import VtnProcess

if TYPE_CHECKING:
    from openleadr import OpenADRClient


class GatedVen(OpenAdrVen):
    """The real VEN and openleadr client, whose registration holds at its very end until
    ``finish`` is set: the test can then complete it in the same loop pass as a stop."""

    def __init__(self, market: OpenAdrMarket, book: ProgramBook, clock: Clock) -> None:
        super().__init__(market, book, clock, "USD")
        self.registered_with_vtn = asyncio.Event()
        self.finish = asyncio.Event()

    def _new_client(self) -> OpenADRClient:
        client = super()._new_client()
        run = client.run

        async def gated_run() -> None:
            await run()
            self.registered_with_vtn.set()
            await self.finish.wait()

        client.run = gated_run
        return client


async def test_a_stop_as_the_registration_completes_stops_the_ven(tmp_path: Path, vtn: VtnProcess) -> None:
    # Guards a hang on stop: with asyncio.wait_for around the registration, Python 3.11 returned
    # the registration's result when it finished in the same loop pass as the cancellation and
    # dropped the cancellation, so the VEN went on following the VTN and its stop never ended.
    config = home_config(tmp_path, vtn.url)
    market = openadr_market(config)
    assert market is not None
    clock = RealClock()
    ven = GatedVen(market, build_book(config, market, clock), clock)
    task = asyncio.create_task(ven.run())
    try:
        async with asyncio.timeout(30.0):
            await ven.registered_with_vtn.wait()
        ven.finish.set()  # the registration completes in the next loop pass ...
        task.cancel()  # ... and so does the stop
        await asyncio.wait({task}, timeout=10.0)
        assert task.cancelled()
        assert not ven.registered
    finally:
        task.cancel()
        await ven.close()
