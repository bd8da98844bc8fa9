"""The VEN against a real VTN process (openleadr's OpenADRServer) on loopback: registration,
price events becoming tenders, opt answers, cancellation, a usage report, a VTN that goes away."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.clock import RealClock
from agent.config import Config
from agent.market.intervals import Duration, intervals_between
from agent.market.records import Side
from agent.openadr import CACHE_FILE, OpenAdrVen, build_ven, openadr_market
from agent.tariff import TariffCounterparty
from drivers.base import Monitor
from tests.openadr.conftest import home_config, next_hour
from tests.openadr.vtn_process import VtnProcess, free_port

LA = ZoneInfo("America/Los_Angeles")


async def wait_until(check: Callable[[], bool], timeout_s: float = 20.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not check():  # noqa: ASYNC110 (the change comes from the VTN's process: poll it)
            await asyncio.sleep(0.05)


def _saved_events(state_dir: Path) -> list[str]:
    path = state_dir / CACHE_FILE
    if not path.exists():
        return ["(not saved yet)"]
    return [e["event_id"] for e in json.loads(path.read_text())["events"]]


class Home:
    """The home's VEN running as the agent runs it, with a meter reading to report."""

    def __init__(self, config: Config) -> None:
        market = openadr_market(config)
        assert market is not None
        self.config = config
        self.meter = Monitor[float](RealClock(), name="grid power", unit="W", max_age_s=60.0)
        self.ven: OpenAdrVen = build_ven(config, market, RealClock(), usage_w=self.meter.get)
        self.counterparty = TariffCounterparty(config, self.ven.book)
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self.ven.run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await self.task
        await self.ven.close()

    async def hourly_import(self, start: datetime, hours: int) -> list[tuple[Decimal, str]]:
        """Import price and state of each hour (its four quarter hours must agree)."""
        quarters = intervals_between(start, start + timedelta(hours=hours), Duration.PT15M, LA)
        quoted = await self.counterparty.quote(quarters)
        sells = [t.price_per_kwh for t in quoted.tenders if t.side is Side.SELL]
        assert sells == [p.import_per_kwh for p in quoted.prices]
        out: list[tuple[Decimal, str]] = []
        for h in range(hours):
            four = {(p.import_per_kwh, p.state) for p in quoted.prices[4 * h : 4 * h + 4]}
            assert len(four) == 1, four
            out.append(four.pop())
        return out


@pytest.fixture
async def home(tmp_path: Path, vtn: VtnProcess) -> AsyncIterator[Home]:
    h = Home(home_config(tmp_path, vtn.url))
    h.start()
    await vtn.expect("registered", ven_name="home")
    try:
        yield h
    finally:
        await h.stop()


async def add_price_event(
    vtn: VtnProcess, event_id: str, start: datetime, prices: list[str], **kw: object
) -> None:
    intervals = [[(start + timedelta(hours=i)).isoformat(), 3600, float(p)] for i, p in enumerate(prices)]
    await vtn.send(
        cmd="add_event",
        ven_id="ven-home",
        event_id=event_id,
        signal_name=kw.pop("signal_name", "ELECTRICITY_PRICE"),
        signal_type=kw.pop("signal_type", "price"),
        intervals=intervals,
        **kw,
    )


async def test_a_price_event_becomes_tenders_and_its_cancellation_the_base_rate(
    home: Home, vtn: VtnProcess, tmp_path: Path
) -> None:
    start = next_hour()
    await add_price_event(vtn, "cpp-1", start, ["0.42", "0.55", "0.30"])
    opt = await vtn.expect("opt", event_id="cpp-1")
    assert opt["opt_type"] == "optIn"
    await wait_until(lambda: [e.event_id for e in home.ven.book.events] == ["cpp-1"])
    # Base 0.14 + delivery 0.16 = 0.30 outside the event; the event's price + 0.16 inside it.
    assert await home.hourly_import(start - timedelta(hours=1), 5) == [
        (Decimal("0.30"), "firm"),
        (Decimal("0.58"), "indicative"),
        (Decimal("0.71"), "indicative"),
        (Decimal("0.46"), "indicative"),
        (Decimal("0.30"), "firm"),
    ]
    # The handler saves after booking, in a thread: wait for the file, then read it.
    await wait_until(lambda: _saved_events(tmp_path) == ["cpp-1"])

    await vtn.send(cmd="cancel_event", ven_id="ven-home", event_id="cpp-1")
    await wait_until(lambda: home.ven.book.events == [])
    assert await home.hourly_import(start - timedelta(hours=1), 5) == [(Decimal("0.30"), "firm")] * 5
    await wait_until(lambda: _saved_events(tmp_path) == [])


async def test_simple_levels_map_to_prices_and_an_unpriced_level_is_opted_out(
    home: Home, vtn: VtnProcess
) -> None:
    start = next_hour(2)
    await add_price_event(vtn, "level-3", start, ["3"], signal_name="SIMPLE", signal_type="level")
    assert (await vtn.expect("opt", event_id="level-3"))["opt_type"] == "optIn"
    # Level 3 is 1.20 in the config: 1.20 + 0.16.
    assert await home.hourly_import(start, 1) == [(Decimal("1.36"), "indicative")]

    # Level 2 has no price in the config: the VEN refuses it rather than guess one.
    later = start + timedelta(hours=2)
    await add_price_event(vtn, "level-2", later, ["2"], signal_name="SIMPLE", signal_type="level")
    assert (await vtn.expect("opt", event_id="level-2"))["opt_type"] == "optOut"
    assert [e.event_id for e in home.ven.book.events] == ["level-3"]
    assert await home.hourly_import(later, 1) == [(Decimal("0.30"), "firm")]


async def test_relative_and_multiplier_prices_apply_to_the_base(home: Home, vtn: VtnProcess) -> None:
    start = next_hour(3)
    await add_price_event(vtn, "mult", start, ["2.5"], signal_type="priceMultiplier")
    await add_price_event(vtn, "rel", start + timedelta(hours=1), ["0.05"], signal_type="priceRelative")
    assert (await vtn.expect("opt", event_id="mult"))["opt_type"] == "optIn"
    assert (await vtn.expect("opt", event_id="rel"))["opt_type"] == "optIn"
    # 0.14 x 2.5 + 0.16 = 0.51; 0.14 + 0.05 + 0.16 = 0.35.
    assert await home.hourly_import(start, 2) == [
        (Decimal("0.510"), "indicative"),
        (Decimal("0.35"), "indicative"),
    ]


async def test_an_event_of_another_program_or_without_prices_is_opted_out(
    home: Home, vtn: VtnProcess, tmp_path: Path
) -> None:
    start = next_hour(2)
    await vtn.send(
        cmd="add_event",
        ven_id="ven-home",
        event_id="dispatch",
        signal_name="LOAD_DISPATCH",
        signal_type="setpoint",
        intervals=[[start.isoformat(), 3600, 5.0]],
    )
    assert (await vtn.expect("opt", event_id="dispatch"))["opt_type"] == "optOut"
    # A price in another currency than the contract's is not read as one.
    await add_price_event(vtn, "eur", start, ["0.42"], unit="EUR")
    assert (await vtn.expect("opt", event_id="eur"))["opt_type"] == "optOut"
    assert home.ven.book.events == []
    assert await home.hourly_import(start, 1) == [(Decimal("0.30"), "firm")]


async def test_only_the_configured_program_is_followed(tmp_path: Path, vtn: VtnProcess) -> None:
    extra = "market_context: oadr://test.utility/programs/cpp"
    home = Home(home_config(tmp_path, vtn.url, extra))
    home.start()
    try:
        await vtn.expect("registered", ven_name="home")
        start = next_hour(2)
        await add_price_event(
            vtn, "other", start, ["0.90"], market_context="oadr://test.utility/programs/other"
        )
        await add_price_event(vtn, "ours", start + timedelta(hours=1), ["0.50"])
        assert (await vtn.expect("opt", event_id="other"))["opt_type"] == "optOut"
        assert (await vtn.expect("opt", event_id="ours"))["opt_type"] == "optIn"
        assert await home.hourly_import(start, 2) == [
            (Decimal("0.30"), "firm"),
            (Decimal("0.66"), "indicative"),
        ]
    finally:
        await home.stop()


async def test_the_meter_power_is_reported_when_the_vtn_asks(home: Home, vtn: VtnProcess) -> None:
    home.meter.set(-1234.5, "grid meter")  # exporting 1.2345 kW
    offered = await vtn.expect("report_offered")
    assert (offered["measurement"], offered["unit"]) == ("RealPower", "W")
    report = await vtn.expect("report", timeout_s=20.0)
    assert [v for _, v in report["values"]] == [-1234.5]


async def test_a_vtn_that_goes_away_leaves_the_last_prices_and_no_exception(
    home: Home, vtn: VtnProcess
) -> None:
    start = next_hour()
    await add_price_event(vtn, "cpp-2", start, ["0.42"])
    assert (await vtn.expect("opt", event_id="cpp-2"))["opt_type"] == "optIn"
    await vtn.stop()
    heard = home.ven.book.last_heard
    await asyncio.sleep(3.5)  # three failed polls at the VTN's 1 s period
    assert home.task is not None and not home.task.done()
    assert home.ven.book.last_heard == heard  # nothing heard since
    assert await home.hourly_import(start, 1) == [(Decimal("0.58"), "indicative")]


async def test_a_vtn_that_starts_late_is_registered_with_once_it_answers(tmp_path: Path) -> None:
    vtn = VtnProcess(free_port(), poll_s=1.0)
    home = Home(home_config(tmp_path, vtn.url))
    home.start()
    try:
        await asyncio.sleep(1.0)  # the first registration fails: nothing listens yet
        assert home.task is not None and not home.task.done()
        assert not home.ven.registered
        await vtn.start()
        await vtn.expect("registered", ven_name="home", timeout_s=30.0)  # the retry after 5 s
        await wait_until(lambda: home.ven.registered)
    finally:
        await home.stop()
        await vtn.stop()


async def test_a_restarted_vtn_is_followed_again(tmp_path: Path) -> None:
    vtn = VtnProcess(free_port(), poll_s=1.0)
    await vtn.start()
    home = Home(home_config(tmp_path, vtn.url))
    home.start()
    try:
        await vtn.expect("registered", ven_name="home")
        await vtn.stop()
        await asyncio.sleep(2.0)  # polls fail meanwhile
        again = VtnProcess(vtn.port, poll_s=1.0)
        await again.start()
        try:
            start = next_hour()
            await add_price_event(again, "after-restart", start, ["0.50"])
            assert (await again.expect("opt", event_id="after-restart"))["opt_type"] == "optIn"
            assert await home.hourly_import(start, 1) == [(Decimal("0.66"), "indicative")]
        finally:
            await again.stop()
    finally:
        await home.stop()


async def test_opting_out_still_follows_the_prices(tmp_path: Path, vtn: VtnProcess) -> None:
    home = Home(home_config(tmp_path, vtn.url, "opt_in: false"))
    home.start()
    try:
        await vtn.expect("registered", ven_name="home")
        start = next_hour()
        await add_price_event(vtn, "cpp-3", start, ["0.42"])
        assert (await vtn.expect("opt", event_id="cpp-3"))["opt_type"] == "optOut"
        assert await home.hourly_import(start, 1) == [(Decimal("0.58"), "indicative")]
    finally:
        await home.stop()
