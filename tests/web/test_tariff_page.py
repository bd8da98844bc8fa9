"""The Tariff panel in headless Chromium: the next hours' prices say which are estimated and why,
and the contract's bill by component for today and this month shows the figures worked out by
hand in tests/web/tariff_home.py."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from playwright.sync_api import Browser, expect, sync_playwright

from agent.runtime import app
from agent.web.server import make_app
from tests.support.mosquitto import free_port
from tests.tariff.price_servers import serving
from tests.web.browser import ARGS, chromium_path
from tests.web.tariff_home import build_billed, price_server

START_TIMEOUT_S = 60.0


class TariffPage:
    """The billed agent's web app on a free loopback port, on an event loop in a thread of its own."""

    def __init__(self, directory: Path, prices_url: str) -> None:
        self.directory = directory
        self.prices_url = prices_url
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="tariff-agent", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._main())

    async def _main(self) -> None:
        try:
            agent, _ = await build_billed(self.directory, self.prices_url, self.port)
            runner = web.AppRunner(make_app(agent, "token"), access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port).start()
            self._stop = asyncio.Event()
        except BaseException as e:
            self._error = e
            self._ready.set()
            raise
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()
            await app.shutdown(agent)

    def __enter__(self) -> TariffPage:
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S) or self._error is not None:
            raise RuntimeError(f"the agent did not start: {self._error!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=ARGS)
        yield b
        b.close()


def test_the_panel_says_tomorrow_is_estimated_and_shows_the_bill(browser: Browser, tmp_path: Path) -> None:
    with serving(price_server().app()) as url, TariffPage(tmp_path, f"{url}/api") as home:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(home.base_url + "/")
        card = page.locator("#tariff-card")
        expect(card).to_be_visible(timeout=30_000)
        expect(page.locator("#tariff-name")).to_have_text("dynamic tariff, DE-LU day-ahead (illustrative)")
        notice = page.locator("#tariff-notice")
        expect(notice).to_contain_text("Tomorrow's prices are not published yet")
        expect(notice).to_contain_text("estimated")
        # 24 hours of quarter hours from 10:00: 56 firm until midnight, 40 estimated after it.
        expect(page.locator("#tariff-prices tbody tr")).to_have_count(96)
        expect(page.locator("#tariff-prices .badge.firm")).to_have_count(56)
        expect(page.locator("#tariff-prices .badge.estimated")).to_have_count(40)
        expect(page.locator("#tariff-prices tbody tr").nth(56).locator(".badge")).to_have_text("estimated")
        # The bill by hand: today 0.648312, this month 14.718312 (with June's standing charges).
        total = page.locator("#contract-bill tr.total td")
        expect(total).to_have_text(["Total", "0.65 EUR", "14.72 EUR"])
        vat = page.locator("#contract-bill tbody tr", has_text="vat").locator("td")
        expect(vat).to_have_text(["vat", "0.10 EUR", "0.10 EUR"])
        base = page.locator("#contract-bill tbody tr", has_text="base_price").locator("td")
        expect(base).to_have_text(["base_price", "0.00 EUR", "9.90 EUR"])
        page.close()
