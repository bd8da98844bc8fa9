"""The household's contract in a scenario: ``simulate.contract``.

::

    simulate:
      contract:
        config: ../../configs/examples/us_tou.yaml   # an agent config; its `market` section is used
        publish_at: "13:00"                          # day-ahead prices appear at this local time,
                                                     # the day before (dynamic tariffs only)

The named config's whole ``market`` section (``source: {type: tariff, ...}`` and the price caps)
and its ``site.currency`` go into the agent config of the run, which then has no retailer link:
the home runs as a household's gateway does, under its contract. A price service's token is not
needed (the run replays the scenario's recorded prices instead of asking the service), so a
``token`` is replaced by a placeholder. An OpenADR price program names its events rule
(``events: {hours: N, level: L}``, :mod:`hil.sim.program`): no VTN runs, the events are handed to
the agent's VEN as openleadr hands them.

The contract lives under ``simulate`` because only the virtual-time run honours it; ``hems plan``
prices a scenario by its ``tariff`` section.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from agent.config.openadr import OpenAdrMarket
from agent.config.price_service import FetchedMarketPrice
from agent.config.tariff import TariffSource
from agent.scenario import ScenarioError
from hil.sim.program import EventRule

KEY = "simulate.contract"
CONTRACT_KEYS = {"config", "publish_at", "events"}
EVENT_KEYS = {"hours", "level"}
# ENTSO-E's and the exchanges' day-ahead results appear around 12:45–13:00 market time.
DEFAULT_PUBLISH_AT = time(13, 0)
# What a price service's secret becomes: nothing is sent anywhere in a simulation.
TOKEN_PLACEHOLDER = "recorded-prices"


@dataclass(frozen=True)
class ContractSpec:
    """A scenario's contract: the agent config's ``market`` section and currency, checked."""

    path: Path
    market: Mapping[str, Any]  # the agent config's market section, as the run's config gets it
    currency: str
    source: TariffSource
    publish_at: time = DEFAULT_PUBLISH_AT
    events: EventRule | None = None  # an OpenADR program's events, made from the recorded prices

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def dynamic(self) -> bool:
        """Whether the market price comes from a price service (ENTSO-E, aWATTar, Octopus, ...):
        the same test that gives the agent's run its recorded prices (hil.fast.contract)."""
        return isinstance(self.source.market, FetchedMarketPrice)

    @property
    def program(self) -> OpenAdrMarket | None:
        """The OpenADR price program the contract stands on, if it stands on one."""
        market = self.source.market
        return market if isinstance(market, OpenAdrMarket) else None


def _publish_at(raw: Any) -> time:
    try:
        return time.fromisoformat(str(raw))
    except ValueError as e:
        raise ScenarioError(f"{KEY}.publish_at", f"must be a local time HH:MM, got {raw!r}") from e


def _read(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ScenarioError(f"{KEY}.config", f"cannot read {path}: {e.strerror}") from e
    except yaml.YAMLError as e:
        raise ScenarioError(f"{KEY}.config", f"{path} is not valid YAML: {e}") from e
    if not isinstance(doc, dict):
        raise ScenarioError(f"{KEY}.config", f"{path} is not a mapping")
    return doc


def _without_secret(source: dict[str, Any]) -> dict[str, Any]:
    market = source.get("market")
    if isinstance(market, dict) and "token" in market:
        return {**source, "market": {**market, "token": TOKEN_PLACEHOLDER}}
    return source


def parse_contract(doc: Any, base: Path) -> ContractSpec:
    """``simulate.contract`` of a scenario whose file lies in ``base``."""
    if not isinstance(doc, Mapping):
        raise ScenarioError(KEY, f"must be a mapping, got {type(doc).__name__}")
    for k in doc:
        if k not in CONTRACT_KEYS:
            raise ScenarioError(f"{KEY}.{k}", f"unknown key; allowed: {', '.join(sorted(CONTRACT_KEYS))}")
    if "config" not in doc:
        raise ScenarioError(f"{KEY}.config", "missing: the agent config whose market.source is the contract")
    path = (base / str(doc["config"])).resolve()
    config = _read(path)
    market = config.get("market")
    source = market.get("source") if isinstance(market, dict) else None
    if not isinstance(source, dict) or source.get("type") != "tariff":
        raise ScenarioError(f"{KEY}.config", f"{path.name}: market.source must be a tariff (type: tariff)")
    site = config.get("site")
    currency = site.get("currency", "EUR") if isinstance(site, dict) else "EUR"
    source = _without_secret(source)
    try:
        checked = TariffSource.model_validate(source)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ScenarioError(f"{KEY}.config", f"{path.name}: market.source.{where}: {first['msg']}") from e
    events = None
    if isinstance(checked.market, OpenAdrMarket):
        events = _events(doc.get("events"), checked.market)
    elif "events" in doc:
        raise ScenarioError(f"{KEY}.events", "only an OpenADR price program has events")
    publish_at = _publish_at(doc["publish_at"]) if "publish_at" in doc else DEFAULT_PUBLISH_AT
    assert isinstance(market, dict)  # source came from it
    return ContractSpec(path, {**market, "source": source}, str(currency), checked, publish_at, events)


def _events(doc: Any, market: OpenAdrMarket) -> EventRule:
    key = f"{KEY}.events"
    if not isinstance(doc, Mapping):
        raise ScenarioError(key, "an OpenADR price program needs its events rule: {hours: N, level: L}")
    for k in doc:
        if k not in EVENT_KEYS:
            raise ScenarioError(f"{key}.{k}", f"unknown key; allowed: {', '.join(sorted(EVENT_KEYS))}")
    hours, level = doc.get("hours"), doc.get("level")
    if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= 23:
        raise ScenarioError(f"{key}.hours", f"must be a whole number of hours 1..23, got {hours!r}")
    if (
        isinstance(level, bool)
        or not isinstance(level, int)
        or level not in market.simple_levels
        or level == 0
    ):
        known = ", ".join(str(k) for k in sorted(market.simple_levels) if k) or "none"
        raise ScenarioError(f"{key}.level", f"must be a SIMPLE level with a price in the program ({known})")
    return EventRule(hours, level)
