"""Top-level sections other than devices: site, market, MQTT brokers, retailer link, web, planner."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from agent.config.base import Check, Finding, Strict
from agent.config.tariff import MarketSource, RetailerSource, TariffSource, source_shorthand
from agent.config.types import (
    Celsius,
    Currency,
    ExistingFile,
    Fraction,
    Identifier,
    NonEmpty,
    PartyId,
    Port,
    PositiveKw,
    PricePerKwh,
    Secret,
    StepDuration,
    TimeZoneName,
    resolve_path,
    show_value,
)
from agent.market.intervals import Duration

Hours = Annotated[int, Field(ge=1, le=168)]
Topic = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^#+\s]+$")]


class Site(Strict):
    id: PartyId
    timezone: TimeZoneName
    latitude: Annotated[float, Field(ge=-90.0, le=90.0)]
    longitude: Annotated[float, Field(ge=-180.0, le=180.0)]
    currency: Currency = "EUR"


def _cap_order(v: Mapping[str, Any]) -> Finding | None:
    low, high = Decimal(str(v["price_min_per_kwh"])), Decimal(str(v["price_max_per_kwh"]))
    if low >= high:
        return "price_max_per_kwh", f"must be > price_min_per_kwh {low} (got {high})"
    return None


def _cert_with_key(v: Mapping[str, Any]) -> Finding | None:
    if (v["cert_file"] is None) != (v["key_file"] is None):
        missing = "key_file" if v["key_file"] is None else "cert_file"
        return missing, "client certificates need both cert_file and key_file"
    return None


def _user_with_password(v: Mapping[str, Any]) -> Finding | None:
    if v["password"] is not None and v["username"] is None:
        return "username", "is required when a password is given"
    return None


def _one_token_source(v: Mapping[str, Any]) -> Finding | None:
    if v["token"] is not None and v["token_file"] is not None:
        return "token_file", "give either token or token_file, not both"
    return None


# Between the expected spot prices of buying and selling a deviation (agent/planning/prices.py).
DEFAULT_SPOT_SPREAD_PER_KWH = 0.02


class Market(Strict):
    checks: ClassVar[tuple[Check, ...]] = (_cap_order,)
    # None: the home trades under its site id.
    party_id: PartyId | None = None
    retailer_party_id: PartyId = "retailer"
    # The distribution operator: transport tenders and transactions come from it or the retailer.
    distribution_party_id: PartyId = "dso"
    # Tenders priced outside [min, max] are refused as garbage (a decimal point slipped, a test feed).
    price_min_per_kwh: PricePerKwh = Decimal("-1.00")
    price_max_per_kwh: PricePerKwh = Decimal("5.00")
    commitment_window_h: Hours = 24
    hedge_ratio: Fraction = 0.8
    # False: no forward trading — accept no retailer tender, post none, withdraw any still open,
    # and plan at the expected spot prices alone; everything the meter records settles at spot.
    forward_trading: bool = True
    # Learn, by hour of day, how spot settles against the retailer's forward quotes and expect it
    # there (agent/trading/spot_premium.py); false: expect spot at the quotes' mid.
    learn_spot_premium: bool = True
    max_tender_kw: PositiveKw = 10.0
    # The gap the planner expects between buying and selling at spot (agent/planning/prices.py).
    spot_spread_per_kwh: Annotated[float, Field(ge=0.0, le=1.0)] = DEFAULT_SPOT_SPREAD_PER_KWH
    # Where prices come from: the retailer link (today's default) or the household's contract.
    source: Annotated[MarketSource, BeforeValidator(source_shorthand)] = RetailerSource(type="retailer")

    @property
    def tariff(self) -> TariffSource | None:
        return self.source if isinstance(self.source, TariffSource) else None

    @property
    def counterparty_id(self) -> str:
        """The party whose energy tenders the planner prices from: the retailer or the tariff."""
        tariff = self.tariff
        return tariff.party_id if tariff is not None else self.retailer_party_id


class Tls(Strict):
    checks: ClassVar[tuple[Check, ...]] = (_cert_with_key,)
    # None: the system's CA store.
    ca_file: ExistingFile | None = None
    cert_file: ExistingFile | None = None
    key_file: ExistingFile | None = None
    # Skips host-name verification: only for a broker whose certificate names an IP you trust.
    insecure: bool = False


class MqttBroker(Strict):
    checks: ClassVar[tuple[Check, ...]] = (_user_with_password,)
    host: NonEmpty
    port: Port
    tls: Tls | None = None
    username: NonEmpty | None = None
    password: Secret | None = None
    # None: "hems-<site id>-<broker name>", unique per home so two agents never kick each other off.
    client_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    keepalive_s: Annotated[int, Field(ge=5, le=3600)] = 60
    protocol: Literal["mqttv5", "mqttv311"] = "mqttv5"

    @model_validator(mode="before")
    @classmethod
    def _default_port(cls, data: Any) -> Any:
        if isinstance(data, dict) and "port" not in data:
            return {**data, "port": 8883 if data.get("tls") is not None else 1883}
        return data


class Retailer(Strict):
    broker: Identifier
    topic_prefix: Topic
    qos: Literal[0, 1, 2] = 1


def _bind_address(value: str) -> str:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,252})", value):
            raise ValueError(
                "must be an IP address or host name, e.g. 127.0.0.1 (local only) or 0.0.0.0 "
                f"(got {show_value(value)})"
            ) from None
    return value


def _http_url(value: str) -> str:
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        raise ValueError(f"must be an http:// or https:// address (got {value[:60]!r})")
    return value


class HomeAssistant(Strict):
    """MQTT discovery for Home Assistant: entities for flows, SoC, temperatures, prices, controls."""

    broker: Identifier
    discovery_prefix: Topic = "homeassistant"
    # Entity states are published under <base_topic>/<site id>/..., commands read from .../set.
    base_topic: Topic = "hems"
    publish_every_s: Annotated[float, Field(ge=1.0, le=3600.0)] = 30.0
    # The status page's address as HA's users reach it (the device page links there); None:
    # http://<web.bind>:<web.port>/ when that is neither loopback nor a wildcard, else no link.
    configuration_url: Annotated[str, AfterValidator(_http_url)] | None = None


class Web(Strict):
    checks: ClassVar[tuple[Check, ...]] = (_one_token_source,)
    # False: no status page, API or metrics (Home Assistant discovery needs the web task too).
    enabled: bool = True
    bind: Annotated[str, AfterValidator(_bind_address)] = "127.0.0.1"
    port: Port = 8080
    token: Secret | None = None
    # Where a generated token is kept when 'token' is not given; None: <state_dir>/web-token.
    token_file: Annotated[Path, AfterValidator(resolve_path)] | None = None
    # What the page compares the bill with: a flat retail price per kWh imported, and a flat
    # feed-in price per kWh exported.
    flat_tariff_per_kwh: PricePerKwh = Decimal("0.30")
    flat_feed_in_per_kwh: PricePerKwh = Decimal("0.08")
    home_assistant: HomeAssistant | None = None


class Planner(Strict):
    horizon_h: Hours = 24
    step: StepDuration = Duration.PT15M
    # Re-plan at least this often even when nothing changed (and at every new interval).
    resolve_every_s: Annotated[float, Field(ge=10.0, le=86_400.0)] = 300.0
    # A change of the retailer's tenders: re-plan at once (`at_once`), or wait for the one plan
    # per metering interval a little after its boundary unless a new tender cannot wait
    # (`per_interval`: what the fast simulator uses, a third of the plans).
    tenders_replan: Literal["at_once", "per_interval"] = "at_once"


# --- forecast ---------------------------------------------------------------------------------

Hour = Annotated[float, Field(ge=0.0, lt=24.0)]
Rate = Annotated[float, Field(ge=0.0, le=10_000.0)]
TimeConstantH = Annotated[float, Field(gt=0.0, le=168.0)]


class CsvForecastSource(Strict):
    """A CSV file with a ``time`` column (ISO 8601 with offset, period start) and a value column."""

    type: Literal["csv"]
    file: ExistingFile
    column: NonEmpty
    # None: a static file (never stale); else stale once not rewritten for this long.
    stale_after_s: Annotated[float, Field(gt=0.0, le=31_536_000.0)] | None = None


class MqttForecastSource(Strict):
    """A topic carrying a number (an observation) or a JSON list of {time, value} (a forecast)."""

    type: Literal["mqtt"]
    broker: Identifier
    topic: Topic
    stale_after_s: Annotated[float, Field(gt=0.0, le=604_800.0)] = 1800.0


ForecastSource = Annotated[CsvForecastSource | MqttForecastSource, Field(discriminator="type")]


class BaseLoadForecast(Strict):
    weeks: Annotated[int, Field(ge=1, le=12)] = 4
    recency: Annotated[float, Field(gt=0.0, le=1.0)] = 0.7
    combine: Literal["mean", "median"] = "mean"
    default_kw: Annotated[float, Field(ge=0.0, le=10_000.0)] = 0.4
    blend_tau_h: TimeConstantH = 1.0
    seed_file: ExistingFile | None = None
    seed_column: NonEmpty = "load_kw"
    seed_scale: Annotated[float, Field(gt=0.0, le=1000.0)] = 1.0
    # The household's yearly consumption beside the planned devices (its bill): a standard H0
    # profile of that size is the forecast until its own history takes over (agent/forecast/prior.py).
    annual_consumption_kwh: Annotated[float, Field(gt=0.0, le=1_000_000.0)] | None = None
    prior_days: Annotated[float, Field(gt=0.0, le=84.0)] = 7.0


class PvForecast(Strict):
    weather: ForecastSource | None = None
    weather_kind: Literal["ghi_w_per_m2", "cloud_cover_pct"] = "ghi_w_per_m2"
    recent_h: Annotated[float, Field(gt=0.0, le=24.0)] = 3.0
    decay_h: TimeConstantH = 4.0
    climate_ratio: Annotated[float, Field(ge=0.0, le=1.2)] = 0.7
    losses: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.14
    calibration_h: Annotated[float, Field(ge=0.0, le=24.0 * 28)] = 72.0


class OutdoorForecast(Strict):
    source: ForecastSource | None = None
    profile_c: Annotated[dict[Hour, Celsius], Field(min_length=1, max_length=96)] | None = None
    default_c: Celsius = 10.0
    anchor_decay_h: TimeConstantH = 6.0


class HotWaterForecast(Strict):
    source: ForecastSource | None = None
    profile_l_per_h: Annotated[dict[Hour, Rate], Field(min_length=1, max_length=96)] | None = None
    default_l_per_h: Rate = 5.0
    anchor_decay_h: TimeConstantH = 1.0


class Forecast(Strict):
    base_load: BaseLoadForecast = BaseLoadForecast()
    pv: PvForecast = PvForecast()
    outdoor_temperature: OutdoorForecast = OutdoorForecast()
    hot_water: HotWaterForecast = HotWaterForecast()


def tariff_without_link(v: Mapping[str, Any]) -> Finding | None:
    """A home trades with one counterparty: a retailer link and a tariff source exclude each other."""
    market = v.get("market")
    source = _get(market, "source") if market is not None else None
    kind = source if isinstance(source, str) else _get(source, "type")
    if kind == "tariff" and v.get("retailer") is not None:
        return (
            "retailer",
            "market.source is a tariff: remove the retailer section (or set market.source: retailer)",
        )
    return None


def forecast_broker_refs(v: Mapping[str, Any]) -> Finding | None:
    """An MQTT forecast source must name a broker defined under mqtt_brokers."""
    forecast, brokers = v.get("forecast"), v.get("mqtt_brokers") or {}
    if forecast is None:
        return None
    for section, key in (("pv", "weather"), ("outdoor_temperature", "source"), ("hot_water", "source")):
        part = _get(forecast, section)
        source = _get(part, key) if part is not None else None
        broker = _get(source, "broker") if source is not None else None
        if isinstance(broker, str) and broker not in brokers:
            known = ", ".join(str(b) for b in brokers) or "none"
            return (
                f"forecast.{section}.{key}.broker",
                f"unknown broker '{broker}'; defined in mqtt_brokers: {known}",
            )
    return None


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)
