"""Top-level sections other than devices: site, market, MQTT brokers, retailer link, web, planner."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, model_validator

from agent.config.base import Check, Finding, Strict
from agent.config.types import (
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


class Market(Strict):
    checks: ClassVar[tuple[Check, ...]] = (_cap_order,)
    # None: the home trades under its site id.
    party_id: PartyId | None = None
    retailer_party_id: PartyId = "retailer"
    # Tenders priced outside [min, max] are refused as garbage (a decimal point slipped, a test feed).
    price_min_per_kwh: PricePerKwh = Decimal("-1.00")
    price_max_per_kwh: PricePerKwh = Decimal("5.00")
    commitment_window_h: Hours = 24
    hedge_ratio: Fraction = 0.8
    max_tender_kw: PositiveKw = 10.0


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


class Web(Strict):
    checks: ClassVar[tuple[Check, ...]] = (_one_token_source,)
    bind: Annotated[str, AfterValidator(_bind_address)] = "127.0.0.1"
    port: Port = 8080
    token: Secret | None = None
    # Where a generated token is kept when 'token' is not given; None: <state_dir>/web-token.
    token_file: Annotated[Path, AfterValidator(resolve_path)] | None = None


class Planner(Strict):
    horizon_h: Hours = 24
    step: StepDuration = Duration.PT15M
    # Re-plan at least this often even when nothing changed (and at every new interval).
    resolve_every_s: Annotated[float, Field(ge=10.0, le=86_400.0)] = 300.0
