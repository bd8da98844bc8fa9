"""Top-level sections other than devices: site, market, MQTT brokers, retailer link, web, planner."""

from __future__ import annotations

import ipaddress
import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, Field, model_validator

from agent.config.base import Strict, cross_field_error
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


class Market(Strict):
    # None: the home trades under its site id.
    party_id: PartyId | None = None
    retailer_party_id: PartyId = "retailer"
    # Tenders priced outside [min, max] are refused as garbage (a decimal point slipped, a test feed).
    price_min_per_kwh: PricePerKwh = Decimal("-1.00")
    price_max_per_kwh: PricePerKwh = Decimal("5.00")
    commitment_window_h: Hours = 24
    hedge_ratio: Fraction = 0.8
    max_tender_kw: PositiveKw = 10.0

    @model_validator(mode="after")
    def _cap_order(self) -> Self:
        if self.price_min_per_kwh >= self.price_max_per_kwh:
            raise cross_field_error(
                "price_max_per_kwh",
                f"must be > price_min_per_kwh {self.price_min_per_kwh} (got {self.price_max_per_kwh})",
            )
        return self


class Tls(Strict):
    # None: the system's CA store.
    ca_file: ExistingFile | None = None
    cert_file: ExistingFile | None = None
    key_file: ExistingFile | None = None
    # Skips host-name verification: only for a broker whose certificate names an IP you trust.
    insecure: bool = False

    @model_validator(mode="after")
    def _pair(self) -> Self:
        if (self.cert_file is None) != (self.key_file is None):
            missing = "key_file" if self.key_file is None else "cert_file"
            raise cross_field_error(missing, "client certificates need both cert_file and key_file")
        return self


class MqttBroker(Strict):
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

    @model_validator(mode="after")
    def _credentials(self) -> Self:
        if self.password is not None and self.username is None:
            raise cross_field_error("username", "is required when a password is given")
        return self


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
    bind: Annotated[str, AfterValidator(_bind_address)] = "127.0.0.1"
    port: Port = 8080
    token: Secret | None = None
    # Where a generated token is kept when 'token' is not given; None: <state_dir>/web-token.
    token_file: Annotated[Path, AfterValidator(resolve_path)] | None = None

    @model_validator(mode="after")
    def _checks(self) -> Self:
        if self.token is not None and self.token_file is not None:
            raise cross_field_error("token_file", "give either token or token_file, not both")
        return self


class Planner(Strict):
    horizon_h: Hours = 24
    step: StepDuration = Duration.PT15M
    # Re-plan at least this often even when nothing changed (and at every new interval).
    resolve_every_s: Annotated[float, Field(ge=10.0, le=86_400.0)] = 300.0
