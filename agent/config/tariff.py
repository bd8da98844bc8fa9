"""``market.source``: where the home's prices come from — the retailer link, or the household's contract.

``source: retailer`` (the default) keeps today's behaviour: tenders arrive over the retailer link.
``source: {type: tariff, ...}`` turns the household's contract into standing tenders from a
``tariff`` party (agent/tariff/). A contract is:

* ``periods``: time-of-use periods, tried in order, the first that matches an interval's local
  start wins; an entry may name seasons, day kinds and a ``from``/``to`` clock window (``to`` <=
  ``from`` wraps past midnight); several entries may share a name (a period in two windows). The
  last entry must match everything, so every interval gets exactly one period;
* ``seasons``: month-day ranges (``"06-01"`` to ``"09-30"``, both inclusive, wrapping the new year
  when ``to`` < ``from``);
* ``holidays``: a public-holiday calendar (the ``holidays`` package); a holiday is day kind
  ``holiday`` (and neither ``weekday`` nor its weekday name);
* ``energy_per_kwh`` and ``network_per_kwh``: named price parts, each one number or a price per
  period; ``market_multiplier`` scales the market price first; ``vat_multiplier`` scales the sum;
* ``export``: ``none``, ``fixed`` (a feed-in price) or ``market_share`` (a share of the market price);
* ``fixed_per_day`` / ``fixed_per_month``: named standing charges; ``demand``: a charge per kW of
  the month's highest metered average in the named periods, where the contract has one;
* ``tiers``: blocks of the month's import (``up_to_kwh``, the last open-ended), each adding its
  ``adder_per_kwh`` before VAT to the kWh inside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from agent.config.base import Check, Finding, Strict
from agent.config.octopus import OctopusMarketPrice
from agent.config.openadr import OpenAdrMarket
from agent.config.price_service import FetchedMarketPrice, HttpUrl
from agent.config.types import ClockTime, Identifier, PartyId, PricePerKwh, Secret, show_value

MonthDay = Annotated[
    str,
    Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$", description="MM-DD"),
]
DayKind = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun", "weekday", "weekend", "holiday"]
Multiplier = Annotated[Decimal, Field(ge=Decimal(0), le=Decimal(10))]
Money = Annotated[Decimal, Field(ge=Decimal(0), le=Decimal(100_000))]
# One number for every period, or a price per period name.
PeriodRate = PricePerKwh | dict[Identifier, PricePerKwh]
PriceParts = Annotated[dict[Identifier, PeriodRate], Field(max_length=20)]


class Season(Strict):
    start: MonthDay = Field(alias="from")
    end: MonthDay = Field(alias="to")


def _country(value: str) -> str:
    import holidays  # only a config with a calendar pays for importing it

    if value not in holidays.list_supported_countries():
        raise ValueError(
            "must be an ISO 3166 country code the holidays package knows, e.g. US, DE "
            f"(got {show_value(value)})"
        )
    return value


def _subdivision_known(v: Mapping[str, Any]) -> Finding | None:
    import holidays

    sub = v["subdivision"]
    if sub is None:
        return None
    known = holidays.list_supported_countries().get(v["country"], [])
    if sub not in known:
        shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
        return "subdivision", f"unknown subdivision {sub!r} of {v['country']}; known: {shown or 'none'}"
    return None


class HolidayCalendar(Strict):
    checks: ClassVar[tuple[Check, ...]] = (_subdivision_known,)
    country: Annotated[str, AfterValidator(_country)]
    subdivision: str | None = None


class TouPeriod(Strict):
    name: Identifier
    # None: any season / any day / all day.
    seasons: Annotated[list[Identifier], Field(min_length=1)] | None = None
    days: Annotated[list[DayKind], Field(min_length=1)] | None = None
    start: ClockTime | None = Field(default=None, alias="from")
    end: ClockTime | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _window_whole(self) -> TouPeriod:
        if (self.start is None) != (self.end is None):
            raise ValueError("a time window needs both 'from' and 'to'")
        return self

    @property
    def catch_all(self) -> bool:
        return self.seasons is None and self.days is None and self.start is None


class FixedExport(Strict):
    type: Literal["fixed"]
    price_per_kwh: PricePerKwh


class MarketShareExport(Strict):
    type: Literal["market_share"]
    share: Annotated[Decimal, Field(ge=Decimal(0), le=Decimal(2))]


class NoExport(Strict):
    type: Literal["none"]


ExportRule = Annotated[FixedExport | MarketShareExport | NoExport, Field(discriminator="type")]


class DemandCharge(Strict):
    per_kw: Money
    # None: the month's highest average in any period.
    periods: Annotated[list[Identifier], Field(min_length=1)] | None = None


class Tier(Strict):
    """A block of the month's import: every kWh in it gets ``adder_per_kwh`` (before VAT)."""

    # None: no upper end (the last tier).
    up_to_kwh: Annotated[Decimal, Field(gt=Decimal(0), le=Decimal(1_000_000))] | None = None
    adder_per_kwh: PricePerKwh


def _tiers_ordered(v: Mapping[str, Any]) -> Finding | None:
    tiers = v["tiers"]
    last = Decimal(0)
    for i, tier in enumerate(tiers):
        bound = _get(tier, "up_to_kwh")
        if bound is None:
            if i != len(tiers) - 1:
                return f"tiers.{i}.up_to_kwh", "only the last tier may be open-ended"
            return None
        if Decimal(str(bound)) <= last:
            return f"tiers.{i}.up_to_kwh", f"must be above the previous tier's {last} kWh"
        last = Decimal(str(bound))
    if tiers:
        return f"tiers.{len(tiers) - 1}.up_to_kwh", "the last tier must be open-ended (no up_to_kwh)"
    return None


class FixedMarketPrice(Strict):
    """A market price that does not move: what a time-of-use or flat contract stands on."""

    type: Literal["fixed"] = "fixed"
    price_per_kwh: PricePerKwh = Decimal(0)


def _bidding_zone(value: str) -> str:
    from agent.tariff.entsoe_zones import zone_code

    zone_code(value)  # raises ValueError naming the known zones
    return value


class EntsoeMarketPrice(FetchedMarketPrice):
    """Day-ahead prices of a bidding zone from the ENTSO-E Transparency Platform (needs a token)."""

    type: Literal["entsoe"]
    # A zone name (DE-LU, NL, SE3, ...) or its 16-character EIC code.
    zone: Annotated[str, AfterValidator(_bidding_zone)]
    token: Secret
    base_url: HttpUrl = "https://web-api.tp.entsoe.eu/api"


class AwattarMarketPrice(FetchedMarketPrice):
    """Day-ahead prices from aWATTar's public API (DE-LU or AT, in EUR; no token)."""

    type: Literal["awattar"]
    country: Literal["de", "at"] = "de"
    # None: https://api.awattar.de or https://api.awattar.at by country.
    base_url: HttpUrl | None = None


def _fixed_by_default(value: Any) -> Any:
    # `market: {price_per_kwh: 0.1}` has always meant a fixed price; the type names the others.
    if isinstance(value, Mapping) and "type" not in value:
        return {**value, "type": "fixed"}
    return value


# Every market price source but the day-ahead services has `price_per_kwh`: its price when
# nothing else sets one.
MarketPriceConfig = Annotated[
    FixedMarketPrice | EntsoeMarketPrice | AwattarMarketPrice | OctopusMarketPrice | OpenAdrMarket,
    BeforeValidator(_fixed_by_default),
    Field(discriminator="type"),
]
DYNAMIC_CURRENCY = {"awattar": "EUR", "octopus": "GBP"}


def _period_names(v: Mapping[str, Any]) -> set[str]:
    return {str(_get(p, "name")) for p in v["periods"]}


def _last_catches_all(v: Mapping[str, Any]) -> Finding | None:
    periods = v["periods"]
    last = periods[-1]
    if any(_get(last, key) is not None for key in ("seasons", "days", "from", "start")):
        return (
            f"periods.{len(periods) - 1}",
            "the last period must name no seasons, days or window, so every interval has one",
        )
    return None


def _seasons_defined(v: Mapping[str, Any]) -> Finding | None:
    seasons = set(v["seasons"] or {})
    for i, p in enumerate(v["periods"]):
        for s in _get(p, "seasons") or ():
            if s not in seasons:
                return (
                    f"periods.{i}.seasons",
                    f"unknown season {s!r}; defined: {', '.join(sorted(seasons)) or 'none'}",
                )
    return None


def _holidays_defined(v: Mapping[str, Any]) -> Finding | None:
    if v["holidays"] is not None:
        return None
    for i, p in enumerate(v["periods"]):
        if "holiday" in (_get(p, "days") or ()):
            return f"periods.{i}.days", "names 'holiday' but the tariff has no 'holidays' calendar"
    return None


def _rates_cover_periods(v: Mapping[str, Any]) -> Finding | None:
    names = _period_names(v)
    for section in ("energy_per_kwh", "network_per_kwh"):
        for part, rate in (v[section] or {}).items():
            if not isinstance(rate, Mapping):
                continue
            given = {str(k) for k in rate}
            missing, unknown = names - given, given - names
            if unknown:
                return (
                    f"{section}.{part}",
                    f"unknown period {sorted(unknown)[0]!r}; periods: {', '.join(sorted(names))}",
                )
            if missing:
                return f"{section}.{part}", f"no price for period {sorted(missing)[0]!r}"
    return None


def _demand_periods(v: Mapping[str, Any]) -> Finding | None:
    demand = v["demand"]
    names = _period_names(v)
    for name in (_get(demand, "periods") or ()) if demand is not None else ():
        if name not in names:
            return "demand.periods", f"unknown period {name!r}; periods: {', '.join(sorted(names))}"
    return None


def _vat_once(v: Mapping[str, Any]) -> Finding | None:
    # A market price that already carries VAT must not get it again from the formula.
    market = v["market"]
    included = _get(market, "type") == "octopus" and _get(market, "vat_included") is True
    if included and Decimal(str(v["vat_multiplier"])) != 1:
        return (
            "vat_multiplier",
            "must be 1 with market.vat_included: true (the rate already includes VAT); "
            "or set vat_included: false and keep the multiplier",
        )
    return None


class TariffSource(Strict):
    checks: ClassVar[tuple[Check, ...]] = (
        _vat_once,
        _last_catches_all,
        _seasons_defined,
        _holidays_defined,
        _rates_cover_periods,
        _demand_periods,
        _tiers_ordered,
    )
    type: Literal["tariff"]
    name: Annotated[str, Field(min_length=1, max_length=120)] = "household tariff"
    # The party the tenders come from; the planner takes prices from it as from a retailer.
    party_id: PartyId = "tariff"
    # firm: the prices are the contract's; indicative: a forecast of them (a source that says so).
    state: Literal["firm", "indicative"] = "firm"
    # The market price the formula stands on: fixed, or a day-ahead price service.
    market: MarketPriceConfig = FixedMarketPrice()
    market_multiplier: Multiplier = Decimal(1)
    periods: Annotated[list[TouPeriod], Field(min_length=1, max_length=50)] = Field(
        default_factory=lambda: [TouPeriod(name="all_day")]
    )
    seasons: Annotated[dict[Identifier, Season], Field(max_length=12)] | None = None
    holidays: HolidayCalendar | None = None
    energy_per_kwh: PriceParts = Field(default_factory=dict)
    network_per_kwh: PriceParts = Field(default_factory=dict)
    vat_multiplier: Multiplier = Decimal(1)
    export: ExportRule = NoExport(type="none")
    fixed_per_day: Annotated[dict[Identifier, Money], Field(max_length=20)] = Field(default_factory=dict)
    fixed_per_month: Annotated[dict[Identifier, Money], Field(max_length=20)] = Field(default_factory=dict)
    demand: DemandCharge | None = None
    # Monthly import blocks (a baseline allowance and above it, say); none: no tiers.
    tiers: Annotated[list[Tier], Field(max_length=10)] = Field(default_factory=list)


class RetailerSource(Strict):
    type: Literal["retailer"]


def source_shorthand(value: Any) -> Any:
    # `source: retailer` reads better than `source: {type: retailer}`.
    return {"type": value} if isinstance(value, str) else value


MarketSource = Annotated[RetailerSource | TariffSource, Field(discriminator="type")]


def _get(obj: Any, name: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def tariff_price_caps(v: Mapping[str, Any]) -> Finding | None:
    """Every import and export price of the contract lies within market.price_min/max_per_kwh.

    The planner refuses tenders priced outside the caps as garbage; a contract priced outside them
    would leave the home planning on the default price without a word.
    """
    market = v.get("market")
    source = getattr(market, "source", None)
    if not isinstance(source, TariffSource):
        return None  # a raw mapping (other errors first) or the retailer link
    low, high = market.price_min_per_kwh, market.price_max_per_kwh  # type: ignore[union-attr]
    # A dynamic market price is not known in advance: only the contract's own parts are checked.
    m = fixed_market_price(source) * source.market_multiplier
    adders = [t.adder_per_kwh for t in source.tiers] or [Decimal(0)]
    for period in sorted({p.name for p in source.periods}):
        parts = [r if not isinstance(r, Mapping) else r[period] for r in _rates(source)]
        for adder in adders:
            price = (m + sum(parts, Decimal(0)) + adder) * source.vat_multiplier
            if not low <= price <= high:
                return (
                    "market.source",
                    f"import price {price.normalize()} in period {period!r} lies outside "
                    f"market.price_min_per_kwh..price_max_per_kwh [{low}, {high}]; widen the caps",
                )
    rule = source.export
    export = rule.price_per_kwh if isinstance(rule, FixedExport) else Decimal(0)
    if isinstance(rule, MarketShareExport):
        export = rule.share * fixed_market_price(source)
    if not low <= export <= high:
        return (
            "market.source.export",
            f"export price {export.normalize()} lies outside the caps [{low}, {high}]",
        )
    return None


def fixed_market_price(source: TariffSource) -> Decimal:
    # A price program's base rate is known in advance (its events are checked by their own caps).
    if isinstance(source.market, FixedMarketPrice | OpenAdrMarket):
        return source.market.price_per_kwh
    return Decimal(0)


def dynamic_source_currency(v: Mapping[str, Any]) -> Finding | None:
    """A price service that quotes in one currency serves only a site that counts in it."""
    market = v.get("market")
    source = getattr(market, "source", None)
    site = v.get("site")
    if not isinstance(source, TariffSource) or site is None:
        return None
    wanted = DYNAMIC_CURRENCY.get(source.market.type)
    if wanted is not None and site.currency != wanted:
        return (
            "market.source.market.type",
            f"{source.market.type} quotes prices in {wanted}; site.currency is {site.currency}",
        )
    return None


def _rates(source: TariffSource) -> list[PeriodRate]:
    return [*source.energy_per_kwh.values(), *source.network_per_kwh.values()]
