"""Day-ahead prices from the ENTSO-E Transparency Platform (document type A44, article 12.1.D).

The request: ``GET {base_url}?securityToken=…&documentType=A44&in_Domain=EIC&out_Domain=EIC
&periodStart=yyyyMMddHHmm&periodEnd=yyyyMMddHHmm`` (UTC). The reply is a
``Publication_MarketDocument``: ``TimeSeries`` (currency, price unit, curve type), each with
``Period``s of a ``timeInterval`` and a ``resolution`` (``PT15M`` or ``PT60M``) holding ``Point``s
(``position`` from 1, ``price.amount`` in currency per MWh). Under curve type ``A03`` a point
whose price equals the one before it is left out: a missing position repeats the previous price,
up to the end of the period. A request the platform cannot serve is answered with an
``Acknowledgement_MarketDocument`` whose ``Reason`` says why ("No matching data found": not
published yet). The platform sends whole days of the zone's market time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from agent.clock import Clock
from agent.market.intervals import Duration
from agent.tariff.errors import PriceFormatError, PriceServiceError, PricesNotPublished
from agent.tariff.http_fetch import RetryPolicy, get
from agent.tariff.sources import MarketPrice

SERVICE = "ENTSO-E"
DEFAULT_BASE_URL = "https://web-api.tp.entsoe.eu/api"
RESOLUTIONS: dict[str, Duration] = {"PT15M": Duration.PT15M, "PT60M": Duration.PT1H}
KWH_PER_MWH = Decimal(1000)
DAY_AHEAD_CONTRACT = "A01"
NO_DATA_CODE = "999"


def _local(tag: str) -> str:
    # The namespace carries the document's schema version (…:7:0, …:7:3); the names do not change.
    return tag.rsplit("}", 1)[-1]


def _children(node: Element, name: str) -> list[Element]:
    return [c for c in node if _local(c.tag) == name]


def _text(node: Element, name: str, where: str) -> str:
    found = _children(node, name)
    if not found or not (found[0].text or "").strip():
        raise PriceFormatError(SERVICE, f"{where}.{name}", "missing")
    return (found[0].text or "").strip()


def _optional(node: Element, name: str) -> str | None:
    found = _children(node, name)
    return (found[0].text or "").strip() if found else None


def _instant(text: str, where: str) -> datetime:
    try:
        value = datetime.strptime(text, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
    except ValueError:
        raise PriceFormatError(SERVICE, where, f"must be yyyy-MM-ddTHH:mmZ (got {text!r})") from None
    return value


def parse_reply(body: bytes, currency: str) -> list[MarketPrice]:
    """The firm prices of a reply, in order of start; raises for an Acknowledgement or a bad shape."""
    try:
        root = SafeET.fromstring(body)
    except SafeET.ParseError as e:
        raise PriceFormatError(SERVICE, "document", f"not well-formed XML ({e})") from e
    except DefusedXmlException as e:  # entity declarations, external references: never expanded
        raise PriceFormatError(SERVICE, "document", f"refused ({type(e).__name__})") from e
    kind = _local(root.tag)
    if kind == "Acknowledgement_MarketDocument":
        raise acknowledgement_error(root)
    if kind != "Publication_MarketDocument":
        raise PriceFormatError(SERVICE, "document", f"expected Publication_MarketDocument, got {kind}")
    return _publication(root, currency)


def acknowledgement_error(root: Element) -> PriceServiceError:
    reasons = _children(root, "Reason")
    code = _optional(reasons[0], "code") if reasons else None
    text = (_optional(reasons[0], "text") if reasons else None) or "no reason given"
    if code == NO_DATA_CODE:
        return PricesNotPublished(SERVICE, text)
    return PriceServiceError(SERVICE, f"request refused (reason {code}): {text}", retryable=False)


def _publication(root: Element, currency: str) -> list[MarketPrice]:
    series = []
    for i, ts in enumerate(_children(root, "TimeSeries"), start=1):
        where = f"TimeSeries[{i}]"
        contract = _optional(ts, "contract_MarketAgreement.type")
        if contract not in (None, DAY_AHEAD_CONTRACT):
            continue  # another auction's prices in the same document
        got = _text(ts, "currency_Unit.name", where)
        if got != currency:
            raise PriceFormatError(
                SERVICE, f"{where}.currency_Unit.name", f"prices in {got}, the site's currency is {currency}"
            )
        unit = _text(ts, "price_Measure_Unit.name", where)
        if unit != "MWH":
            raise PriceFormatError(SERVICE, f"{where}.price_Measure_Unit.name", f"expected MWH, got {unit}")
        curve = _optional(ts, "curveType") or "A01"
        if curve not in ("A01", "A03"):
            raise PriceFormatError(SERVICE, f"{where}.curveType", f"expected A01 or A03, got {curve}")
        sequence = _optional(ts, "classificationSequence_AttributeInstanceComponent.position") or "1"
        for j, period in enumerate(_children(ts, "Period"), start=1):
            series.append((sequence, list(_period(period, curve, currency, f"{where}.Period[{j}]"))))
    if not series:
        raise PricesNotPublished(SERVICE, "the document holds no day-ahead TimeSeries")
    return _merge(series)


def _merge(series: list[tuple[str, list[MarketPrice]]]) -> list[MarketPrice]:
    # Where the platform sends a zone's prices twice (a second classification sequence, or both
    # the hourly and the quarter-hour product), the first sequence at its finest step is used.
    first = min(seq for seq, _ in series)
    prices = [p for seq, ps in series if seq == first for p in ps]
    finest = min((p.duration.nominal for p in prices), default=None)
    chosen = sorted((p for p in prices if p.duration.nominal == finest), key=lambda p: p.start)
    for before, after in pairwise(chosen):
        if after.start < before.start + before.duration.nominal:
            raise PriceFormatError(
                SERVICE, "TimeSeries", f"two prices for the interval starting {after.start.isoformat()}"
            )
    return chosen


def _period(period: Element, curve: str, currency: str, where: str) -> Iterator[MarketPrice]:
    interval = _children(period, "timeInterval")
    if not interval:
        raise PriceFormatError(SERVICE, f"{where}.timeInterval", "missing")
    start = _instant(_text(interval[0], "start", f"{where}.timeInterval"), f"{where}.timeInterval.start")
    end = _instant(_text(interval[0], "end", f"{where}.timeInterval"), f"{where}.timeInterval.end")
    resolution = _text(period, "resolution", where)
    if resolution not in RESOLUTIONS:
        raise PriceFormatError(
            SERVICE, f"{where}.resolution", f"expected {' or '.join(RESOLUTIONS)}, got {resolution}"
        )
    step = RESOLUTIONS[resolution]
    count, rest = divmod(end - start, step.nominal)
    if count <= 0 or rest:
        raise PriceFormatError(
            SERVICE,
            f"{where}.timeInterval",
            f"{start:%Y-%m-%dT%H:%MZ}..{end:%Y-%m-%dT%H:%MZ} is not whole {resolution}s",
        )
    given = _points(period, count, where)
    price: Decimal | None = None
    for position in range(1, count + 1):
        if position in given:
            price = given[position]
        elif curve == "A01" or price is None:
            raise PriceFormatError(SERVICE, f"{where}.Point", f"position {position} missing")
        yield MarketPrice(start + (position - 1) * step.nominal, step, price / KWH_PER_MWH, currency, "firm")


def _points(period: Element, count: int, where: str) -> dict[int, Decimal]:
    given: dict[int, Decimal] = {}
    for k, point in enumerate(_children(period, "Point"), start=1):
        at = f"{where}.Point[{k}]"
        raw = _text(point, "position", at)
        if not raw.isdigit() or not 1 <= int(raw) <= count:
            raise PriceFormatError(SERVICE, f"{at}.position", f"must be 1..{count} (got {raw!r})")
        if int(raw) in given:
            raise PriceFormatError(SERVICE, f"{at}.position", f"position {raw} given twice")
        amount = _text(point, "price.amount", at)
        try:
            value = Decimal(amount)
        except InvalidOperation:
            raise PriceFormatError(SERVICE, f"{at}.price.amount", f"not a number: {amount!r}") from None
        if not value.is_finite():
            raise PriceFormatError(SERVICE, f"{at}.price.amount", f"not a finite number: {amount!r}")
        given[int(raw)] = value
    return given


def _stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%d%H%M")


class EntsoeClient:
    """Fetches a bidding zone's day-ahead prices; ``fetch`` raises typed errors, never returns None."""

    def __init__(
        self,
        *,
        token: str,
        zone_eic: str,
        currency: str,
        policy: RetryPolicy,
        clock: Clock,
        base_url: str = DEFAULT_BASE_URL,
    ) -> None:
        self._token = token
        self._zone = zone_eic
        self._currency = currency
        self._policy = policy
        self._clock = clock
        self._base_url = base_url
        self.name = f"entsoe:{zone_eic}"

    async def fetch(self, start: datetime, end: datetime) -> list[MarketPrice]:
        # Whole hours: the platform rounds to its market time unit anyway and sends whole days.
        first = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        last = end.astimezone(UTC)
        if last > last.replace(minute=0, second=0, microsecond=0):
            last = last.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        params = {
            "securityToken": self._token,
            "documentType": "A44",
            "in_Domain": self._zone,
            "out_Domain": self._zone,
            "periodStart": _stamp(first),
            "periodEnd": _stamp(last),
        }
        reply = await get(SERVICE, self._base_url, params, self._policy, self._clock)
        if reply.status in {401, 403}:
            raise PriceServiceError(
                SERVICE, f"HTTP {reply.status}: the security token was rejected", retryable=False
            )
        looks_xml = reply.body.lstrip().startswith(b"<?xml") or "xml" in reply.content_type
        if reply.status != 200 and not looks_xml:
            raise PriceServiceError(SERVICE, f"HTTP {reply.status}: {reply.text_head()}")
        prices = parse_reply(reply.body, self._currency)  # an Acknowledgement raises, whatever the status
        if reply.status != 200:
            raise PriceServiceError(SERVICE, f"HTTP {reply.status} with a price document")
        return [p for p in prices if p.start < end and p.start + p.duration.nominal > start]
