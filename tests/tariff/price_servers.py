"""Local stand-ins for the day-ahead price services: real aiohttp servers on loopback ports.

Each answers as its service documents it. ENTSO-E: ``GET /api?securityToken&documentType=A44
&in_Domain&out_Domain&periodStart&periodEnd`` → a ``Publication_MarketDocument`` with one
``TimeSeries`` per stored day (curve A03 omits a point equal to the one before), or an
``Acknowledgement_MarketDocument`` with reason 999 "No matching data found" when no stored day
overlaps. aWATTar: ``GET /v1/marketdata?start=MS&end=MS`` → ``{"object": "list", "data": [...]}``.
Octopus Energy: ``GET /v1/products/P/electricity-tariffs/T/standard-unit-rates/?period_from&period_to
&page_size[&page]`` → ``{"count", "next", "previous", "results": [...]}``, newest first, a page at a
time; an unknown product or tariff → 404 ``{"detail": "Not found."}``.
Each can be told to fail: an HTML error page with a status, or a slow answer.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiohttp import web

PUBLICATION_NS = "urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:3"
ACK_NS = "urn:iec62325.351:tc57wg16:451-1:acknowledgementdocument:7:0"
RESOLUTION_STEP = {"PT15M": timedelta(minutes=15), "PT60M": timedelta(hours=1)}
TOKEN = "test-token-1f2e3d"


@dataclass
class EntsoePeriod:
    """One published day (or any span) of a zone: amounts in EUR/MWh as the platform writes them."""

    start: datetime
    resolution: str
    amounts: list[str]
    curve: str = "A03"

    @property
    def end(self) -> datetime:
        return self.start + RESOLUTION_STEP[self.resolution] * len(self.amounts)


def _z(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def period_xml(p: EntsoePeriod) -> str:
    points = []
    previous = None
    for position, amount in enumerate(p.amounts, start=1):
        # Curve A03: a point whose price equals the previous one's is not sent.
        if p.curve == "A03" and amount == previous:
            continue
        previous = amount
        points.append(f"<Point><position>{position}</position><price.amount>{amount}</price.amount></Point>")
    return (
        f"<Period><timeInterval><start>{_z(p.start)}</start><end>{_z(p.end)}</end></timeInterval>"
        f"<resolution>{p.resolution}</resolution>{''.join(points)}</Period>"
    )


def publication_xml(periods: list[EntsoePeriod], eic: str, currency: str = "EUR") -> str:
    series = "".join(
        f"<TimeSeries><mRID>{i}</mRID><auction.type>A01</auction.type><businessType>A62</businessType>"
        f'<in_Domain.mRID codingScheme="A01">{eic}</in_Domain.mRID>'
        f'<out_Domain.mRID codingScheme="A01">{eic}</out_Domain.mRID>'
        f"<contract_MarketAgreement.type>A01</contract_MarketAgreement.type>"
        f"<currency_Unit.name>{currency}</currency_Unit.name>"
        f"<price_Measure_Unit.name>MWH</price_Measure_Unit.name><curveType>{p.curve}</curveType>"
        f"{period_xml(p)}</TimeSeries>"
        for i, p in enumerate(periods, start=1)
    )
    first = min(p.start for p in periods)
    last = max(p.end for p in periods)
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<Publication_MarketDocument xmlns="{PUBLICATION_NS}">'
        "<mRID>7d6c3f0e4b2a4c8f</mRID><revisionNumber>1</revisionNumber><type>A44</type>"
        '<sender_MarketParticipant.mRID codingScheme="A01">10X1001A1001A450</sender_MarketParticipant.mRID>'
        "<sender_MarketParticipant.marketRole.type>A32</sender_MarketParticipant.marketRole.type>"
        '<receiver_MarketParticipant.mRID codingScheme="A01">10X1001A1001A450'
        "</receiver_MarketParticipant.mRID>"
        "<receiver_MarketParticipant.marketRole.type>A33</receiver_MarketParticipant.marketRole.type>"
        "<createdDateTime>2026-03-28T12:50:00Z</createdDateTime>"
        f"<period.timeInterval><start>{_z(first)}</start><end>{_z(last)}</end></period.timeInterval>"
        f"{series}</Publication_MarketDocument>"
    )


def acknowledgement_xml(
    code: str = "999", text: str = "No matching data found for Data item ENERGY_PRICES"
) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Acknowledgement_MarketDocument xmlns="{ACK_NS}">'
        "<mRID>be3917c7-0704-4</mRID><createdDateTime>2026-03-28T10:45:36Z</createdDateTime>"
        '<sender_MarketParticipant.mRID codingScheme="A01">10X1001A1001A450</sender_MarketParticipant.mRID>'
        "<sender_MarketParticipant.marketRole.type>A32</sender_MarketParticipant.marketRole.type>"
        '<receiver_MarketParticipant.mRID codingScheme="A01">10X1001A1001A450'
        "</receiver_MarketParticipant.mRID>"
        "<receiver_MarketParticipant.marketRole.type>A39</receiver_MarketParticipant.marketRole.type>"
        "<received_MarketDocument.createdDateTime>2026-03-28T10:45:35Z</received_MarketDocument.createdDateTime>"
        f"<Reason><code>{code}</code><text>{text}</text></Reason></Acknowledgement_MarketDocument>"
    )


def error_page(status: int) -> web.Response:
    title = {401: "401 Unauthorized", 503: "503 Service Unavailable"}.get(status, f"{status} Error")
    body = f"<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
    return web.Response(status=status, text=body, content_type="text/html")


@dataclass
class Behaviour:
    """How the next answers go: ``fail_status`` answers with an HTML error page that many times
    (``fail_times``, None: always); ``delay_s`` holds every answer back."""

    fail_status: int | None = None
    fail_times: int | None = None
    delay_s: float = 0.0
    no_data_status: int = 200  # the status of an Acknowledgement "No matching data found"
    requests: list[dict[str, str]] = field(default_factory=list)

    async def before(self, request: web.Request) -> web.Response | None:
        self.requests.append(dict(request.query))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.fail_status is not None and (self.fail_times is None or self.fail_times > 0):
            if self.fail_times is not None:
                self.fail_times -= 1
            return error_page(self.fail_status)
        return None


class EntsoeServer:
    def __init__(self, eic: str, periods: list[EntsoePeriod], *, token: str = TOKEN) -> None:
        self.eic = eic
        self.periods = periods
        self.token = token
        self.behaviour = Behaviour()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        failed = await self.behaviour.before(request)
        if failed is not None:
            return failed
        q = request.query
        if q.get("securityToken") != self.token:
            return error_page(401)
        stamp = re.compile(r"^\d{12}$")
        if (
            q.get("documentType") != "A44"
            or q.get("in_Domain") != q.get("out_Domain")
            or not stamp.match(q.get("periodStart", ""))
            or not stamp.match(q.get("periodEnd", ""))
        ):
            return web.Response(status=400, text=acknowledgement_xml("999", "Mandatory parameter missing"))
        start = datetime.strptime(q["periodStart"], "%Y%m%d%H%M").replace(tzinfo=UTC)
        end = datetime.strptime(q["periodEnd"], "%Y%m%d%H%M").replace(tzinfo=UTC)
        if q["in_Domain"] != self.eic:
            return web.Response(text=acknowledgement_xml(), content_type="text/xml")
        found = [p for p in self.periods if p.start < end and p.end > start]
        if not found:
            return web.Response(
                status=self.behaviour.no_data_status, text=acknowledgement_xml(), content_type="text/xml"
            )
        return web.Response(text=publication_xml(found, self.eic), content_type="text/xml")


@dataclass
class AwattarEntry:
    start: datetime
    minutes: int
    marketprice: float


class AwattarServer:
    def __init__(self, entries: list[AwattarEntry]) -> None:
        self.entries = entries
        self.behaviour = Behaviour()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v1/marketdata", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        failed = await self.behaviour.before(request)
        if failed is not None:
            return failed
        start_ms, end_ms = int(request.query["start"]), int(request.query["end"])
        data = []
        for e in self.entries:
            s = int(e.start.timestamp() * 1000)
            t = s + e.minutes * 60_000
            if s < end_ms and t > start_ms:
                data.append(
                    {
                        "start_timestamp": s,
                        "end_timestamp": t,
                        "marketprice": e.marketprice,
                        "unit": "Eur/MWh",
                    }
                )
        return web.json_response({"object": "list", "data": data, "url": "/de/v1/marketdata"})


@dataclass
class OctopusRate:
    """One unit rate as the API keeps it: pence per kWh before and with VAT, as written on the wire."""

    start: datetime
    exc_vat: str
    inc_vat: str
    minutes: int = 30

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


def _octopus_z(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class OctopusServer:
    """The public unit-rate endpoint of one product's tariff (no token)."""

    def __init__(
        self, product: str, tariff: str, rates: list[OctopusRate], *, max_page_size: int = 1500
    ) -> None:
        self.product = product
        self.tariff = tariff
        self.rates = rates
        # The service caps page_size; a smaller cap here makes a reply span pages.
        self.max_page_size = max_page_size
        self.behaviour = Behaviour()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(
            "/v1/products/{product}/electricity-tariffs/{tariff}/standard-unit-rates/", self._handle
        )
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        failed = await self.behaviour.before(request)
        if failed is not None:
            return failed
        if (request.match_info["product"], request.match_info["tariff"]) != (self.product, self.tariff):
            return web.json_response({"detail": "Not found."}, status=404)
        q = request.query
        start = datetime.fromisoformat(q["period_from"])
        end = datetime.fromisoformat(q["period_to"])
        size = min(int(q.get("page_size", "100")), self.max_page_size)
        page = int(q.get("page", "1"))
        found = sorted((r for r in self.rates if r.start < end and r.end > start), key=lambda r: r.start)
        found.reverse()  # newest first, as the API sends them
        chunk = found[(page - 1) * size : page * size]
        more = page * size < len(found)
        return web.json_response(
            {
                "count": len(found),
                "next": str(request.url.update_query(page=str(page + 1))) if more else None,
                "previous": str(request.url.update_query(page=str(page - 1))) if page > 1 else None,
                "results": [
                    {
                        "value_exc_vat": json.loads(r.exc_vat),
                        "value_inc_vat": json.loads(r.inc_vat),
                        "valid_from": _octopus_z(r.start),
                        "valid_to": _octopus_z(r.end),
                        "payment_method": None,
                    }
                    for r in chunk
                ],
            }
        )


@contextmanager
def serving(app: web.Application) -> Iterator[str]:
    """Run ``app`` on a free loopback port in a thread of its own; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.SockSite(runner, sock).start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, name="price-server", daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the price server did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


class StepClock:
    """The agent's clock for client tests: ``sleep`` returns at once and records the wait, so
    back-off shows as numbers; ``monotonic_s`` moves with sleeps and with ``advance``."""

    def __init__(self, now: datetime) -> None:
        self._now = now
        self._mono_s = 0.0
        self.waits: list[float] = []

    def now(self) -> datetime:
        return self._now

    def monotonic_s(self) -> float:
        return self._mono_s

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        self._mono_s += seconds
        self._now += timedelta(seconds=seconds)


def awattar_json(entries: list[dict[str, object]]) -> bytes:
    return json.dumps({"object": "list", "data": entries}).encode()
