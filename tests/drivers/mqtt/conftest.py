"""Fixtures: a real Mosquitto per test, and MQTT clients that are closed afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from drivers.mqtt.client import MqttClient
from drivers.mqtt.settings import BrokerSettings
from tests.support.mosquitto import MosquittoBroker

ClientFactory = Callable[..., MqttClient]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    with MosquittoBroker(tmp_path / "broker") as b:
        yield b


@pytest.fixture
async def make_client(broker: MosquittoBroker) -> AsyncIterator[ClientFactory]:
    """``make_client(**settings)``: a started client of ``broker`` (not yet awaited connected)."""
    made: list[MqttClient] = []

    def make(**overrides: Any) -> MqttClient:
        fields: dict[str, Any] = {"host": broker.host, "port": broker.port, "reconnect_max_s": 1}
        fields.update(overrides)
        client = MqttClient(BrokerSettings(**fields))
        made.append(client)
        return client

    yield make
    for c in made:
        await c.close()
