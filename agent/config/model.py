"""The whole configuration: one frozen, validated object handed to every part of the agent."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, ClassVar, Self, TypeVar
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, Field, ValidationInfo, model_validator

from agent.config.base import Check, Strict, cross_field_error
from agent.config.crossref import cross_check
from agent.config.devices import Device, Meter
from agent.config.openadr_caps import openadr_level_caps
from agent.config.sections import (
    Forecast,
    Market,
    MqttBroker,
    Planner,
    Retailer,
    Site,
    Web,
    forecast_broker_refs,
    tariff_without_link,
)
from agent.config.tariff import dynamic_source_currency, tariff_price_caps
from agent.config.types import Identifier, StepDuration
from agent.market.intervals import Duration

DEFAULT_STATE_DIR = Path("/var/lib/hems")
_D = TypeVar("_D")


def _state_dir(value: Path, info: ValidationInfo) -> Path:
    # systemd's StateDirectory= sets $STATE_DIRECTORY (colon-separated if several); it wins so
    # that the unit file, not the config, decides where a hardened service may write.
    context = info.context if isinstance(info.context, Mapping) else {}
    env = context.get("env", os.environ)
    override = env.get("STATE_DIRECTORY", "") if isinstance(env, Mapping) else ""
    chosen = Path(override.split(":")[0]) if override else value
    if not chosen.is_absolute():
        raise ValueError(f"must be an absolute path (got {str(chosen)!r})")
    return chosen


class Config(Strict):
    """Build it with :func:`agent.config.load_config`, which reports every problem with its line."""

    checks: ClassVar[tuple[Check, ...]] = (
        forecast_broker_refs,
        tariff_without_link,
        tariff_price_caps,
        dynamic_source_currency,
        openadr_level_caps,
    )

    site: Site
    metering_interval: StepDuration = Duration.PT15M
    state_dir: Annotated[Path, AfterValidator(_state_dir)] = Field(
        default=DEFAULT_STATE_DIR, validate_default=True
    )
    market: Market = Market()
    mqtt_brokers: dict[Identifier, MqttBroker] = Field(default_factory=dict)
    retailer: Retailer | None = None
    devices: dict[Identifier, Device]
    web: Web = Web()
    planner: Planner = Planner()
    forecast: Forecast = Forecast()

    @model_validator(mode="after")
    def _references(self) -> Self:
        # The loader runs the same checks on the raw data (so they show up next to other
        # problems); this keeps a Config built any other way just as consistent.
        findings = cross_check(self.model_dump(mode="json"))
        if findings:
            path, message = findings[0]
            raise cross_field_error(".".join(path), message)
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.site.timezone)

    @property
    def party_id(self) -> str:
        return self.market.party_id or self.site.id

    @property
    def meter_name(self) -> str:
        return next(name for name, dev in self.devices.items() if isinstance(dev, Meter))

    def broker_client_id(self, broker_name: str) -> str:
        broker = self.mqtt_brokers[broker_name]
        return broker.client_id or f"hems-{self.site.id}-{broker_name}"

    def devices_of(self, kind: type[_D]) -> dict[str, _D]:
        """The devices of one role, e.g. ``config.devices_of(Battery)``, typed for the caller."""
        return {name: dev for name, dev in self.devices.items() if isinstance(dev, kind)}
