"""Settings of one broker connection, validated from the ``mqtt:`` part of the config."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from drivers.errors import DriverConfigError


class BrokerSettings(BaseModel):
    """Where the broker is and how to talk to it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(min_length=1)
    port: int = Field(default=1883, ge=1, le=65535)
    client_id: str = ""  # empty: the broker assigns one (v5) / paho makes one up
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: Path | None = None  # None with tls: the system's trusted CAs
    cert_file: Path | None = None  # client certificate, for brokers that require one
    key_file: Path | None = None
    # Skips host-name checking (the chain is still verified): for a broker known by IP only.
    tls_insecure: bool = False
    protocol: Literal["5", "3.1.1"] = "5"
    # Short enough that a dead TCP connection is noticed within ~1.5 keepalives of the broker.
    keepalive_s: int = Field(default=30, ge=5, le=3600)
    # The availability topic is ``<prefix>/status``: "online" (retained) while connected, and
    # "offline" set as last will and published on a clean stop.
    prefix: str = Field(default="hems", min_length=1)
    # Reconnect backoff doubles from min to max; a broker restart is typically back within seconds.
    reconnect_min_s: int = Field(default=1, ge=1)
    reconnect_max_s: int = Field(default=60, ge=1)
    # Wrong credentials do not fix themselves: retry rarely, so the broker log is not flooded
    # and a broker that bans hammering clients does not ban us.
    auth_retry_s: int = Field(default=300, ge=1)
    # PUBACK/SUBACK from a broker on the LAN arrive within milliseconds; seconds mean trouble.
    ack_timeout_s: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _check(self) -> BrokerSettings:
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be >= reconnect_min_s")
        if self.password is not None and self.username is None:
            raise ValueError("password given without username")
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together")
        return self

    @property
    def availability_topic(self) -> str:
        return f"{self.prefix}/status"

    @property
    def link_key(self) -> str:
        return f"mqtt:{self.host}:{self.port}"


def parse_broker(raw: Any, *, where: str = "mqtt") -> BrokerSettings:
    """Validate broker settings; errors name the key path (``mqtt.port``)."""
    try:
        return BrokerSettings.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        path = ".".join([where, *(str(p) for p in first["loc"])])
        raise DriverConfigError(first["msg"], field=path) from e
