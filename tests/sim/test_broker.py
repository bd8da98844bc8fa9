"""The simulation's broker is Mosquitto: started on a free loopback port, restartable, and a clear
typed error (with the one apt command) where it is not installed."""

from __future__ import annotations

import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from agent.cli.main import main
from hil.sim import broker as broker_mod
from hil.sim.broker import BrokerError, MosquittoBroker, MosquittoMissing, make_broker


@pytest.fixture
def no_mosquitto(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(broker_mod, "SBIN_MOSQUITTO", tmp_path / "no-such-mosquitto")


@pytest.mark.usefixtures("no_mosquitto")
def test_missing_mosquitto_is_a_typed_error_with_the_apt_line(tmp_path: Path) -> None:
    with pytest.raises(MosquittoMissing, match="sudo apt-get install -y mosquitto"):
        make_broker(tmp_path / "broker")


@pytest.mark.usefixtures("no_mosquitto")
def test_demo_without_mosquitto_says_how_to_install_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["demo", "--duration-s", "1", "--state-dir", str(tmp_path / "state")])
    assert code == 1
    assert "hems demo: the MQTT broker mosquitto is not installed" in capsys.readouterr().err


def test_only_mosquitto_is_offered(tmp_path: Path) -> None:
    with pytest.raises(BrokerError, match="'embedded' is unknown"):
        make_broker(tmp_path / "broker", prefer="embedded")
    assert isinstance(make_broker(tmp_path / "broker", prefer="mosquitto"), MosquittoBroker)


def _retained(port: int, topic: str) -> bytes:
    got: list[bytes] = []
    arrived = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2)

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        got.append(bytes(msg.payload))
        arrived.set()

    client.on_message = on_message
    client.connect("127.0.0.1", port)
    client.subscribe(topic, qos=1)
    client.loop_start()
    try:
        assert arrived.wait(10.0), f"nothing retained on {topic}"
    finally:
        client.loop_stop()
        client.disconnect()
    return got[0]


def _publish_retained(port: int, topic: str, payload: bytes) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        client.publish(topic, payload, qos=1, retain=True).wait_for_publish(10.0)
    finally:
        client.loop_stop()
        client.disconnect()


async def test_mosquitto_restarts_on_its_port_and_keeps_retained_messages(tmp_path: Path) -> None:
    # The broker-restart fault relies on both: same port, persisted state.
    broker = make_broker(tmp_path / "broker")
    await broker.start()
    try:
        _publish_retained(broker.port, "sim/state", b"42")
        assert _retained(broker.port, "sim/state") == b"42"
        await broker.stop()
        await broker.start()
        assert _retained(broker.port, "sim/state") == b"42"
    finally:
        await broker.stop()
