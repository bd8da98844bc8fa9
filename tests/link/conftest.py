"""Fixtures: a real Mosquitto with persistence (sessions survive its restart), a scripted
retailer, and links built on real SQLite files that are stopped after each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.clock import Clock, ScaledClock
from agent.ledger import Ledger
from agent.link.link import RetailerLink
from agent.link.outbox import Outbox
from agent.link.settings import LinkSettings
from agent.link.topics import Topics
from drivers.mqtt.client import MqttClient
from drivers.mqtt.settings import BrokerSettings
from tests.link import helpers as h
from tests.link.retailer import ScriptedRetailer
from tests.support.mosquitto import MosquittoBroker, persistent_broker

CONNECT_TIMEOUT_S = 10.0
LinkFactory = Callable[..., Coroutine[Any, Any, RetailerLink]]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    with persistent_broker(tmp_path / "broker") as b:
        yield b


@pytest.fixture
def clock() -> ScaledClock:
    return ScaledClock(h.START)


@pytest.fixture
def topics() -> Topics:
    s = h.settings()
    return Topics(s.topic_prefix, s.home_party)


@pytest.fixture
def retailer(broker: MosquittoBroker, topics: Topics) -> Iterator[ScriptedRetailer]:
    r = ScriptedRetailer(broker.host, broker.port, topics)
    yield r
    r.close()


def broker_settings(broker: MosquittoBroker, topics: Topics, **overrides: Any) -> BrokerSettings:
    fields: dict[str, Any] = {
        "host": broker.host,
        "port": broker.port,
        "client_id": "hems-home-1-local-retailer",
        "prefix": topics.outbound_base,
        "reconnect_min_s": 1,
        "reconnect_max_s": 1,
        "ack_timeout_s": 3.0,
    }
    fields.update(overrides)
    return BrokerSettings(**fields)


@pytest.fixture
async def make_link(
    tmp_path: Path, broker: MosquittoBroker, topics: Topics, clock: Clock
) -> AsyncIterator[LinkFactory]:
    """``await make_link(state_dir=..., ledger=..., settings=..., connect=True)``: a started link."""
    made: list[RetailerLink] = []

    async def make(
        *,
        state_dir: Path | None = None,
        ledger: Ledger | None = None,
        settings: LinkSettings | None = None,
        connect: bool = True,
        **broker_overrides: Any,
    ) -> RetailerLink:
        state = state_dir or tmp_path / "state"
        s = settings or h.settings()
        book = ledger or Ledger.open(state, h.BERLIN, home_party=h.HOME, clock=clock)
        client = MqttClient(
            broker_settings(broker, topics, **broker_overrides), name="retailer link", session_expiry_s=3600
        )
        link = RetailerLink(settings=s, client=client, outbox=Outbox.open(state), ledger=book, clock=clock)
        made.append(link)
        await link.start()
        if connect:
            await link.wait_connected(CONNECT_TIMEOUT_S)
        return link

    yield make
    for link in made:
        await link.stop()
        link.ledger.close()
