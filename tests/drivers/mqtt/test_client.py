"""The paho ↔ asyncio bridge against a real Mosquitto."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from drivers.errors import AuthError, DeviceTimeout, DeviceUnavailable
from drivers.mqtt.client import ConnectionState, Message, MqttClient
from drivers.mqtt.errors import MqttAuthError, MqttNotConnected, MqttTimeout
from drivers.mqtt.settings import BrokerSettings
from tests.drivers.mqtt.conftest import ClientFactory
from tests.support.mosquitto import MosquittoBroker

CONNECT_S = 5.0
ROOT = Path(__file__).resolve().parents[3]


async def until(predicate: object, timeout_s: float = 5.0) -> None:
    """Wait until ``predicate()`` holds (messages arrive through a real broker, asynchronously)."""
    assert callable(predicate)
    async with asyncio.timeout(timeout_s):
        while not predicate():  # noqa: ASYNC110 (the condition lives in another process: poll it)
            await asyncio.sleep(0.01)


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_publish_and_receive_both_protocol_versions(make_client: ClientFactory, protocol: str) -> None:
    a = make_client(protocol=protocol, prefix="a")
    b = make_client(protocol=protocol, prefix="b")
    await a.start()
    await b.start()
    await a.wait_connected(CONNECT_S)
    await b.wait_connected(CONNECT_S)
    got: list[Message] = []
    await a.subscribe("dev/+/power", got.append)
    await b.publish("dev/m1/power", b'{"w": 5}', qos=1)
    await b.publish("dev/m1/other", b"ignored", qos=1)
    await b.publish("dev/m2/power", b"7", qos=0)
    await until(lambda: len(got) == 2)
    assert [(m.topic, m.payload) for m in got] == [("dev/m1/power", b'{"w": 5}'), ("dev/m2/power", b"7")]


async def test_availability_online_retained_and_offline_on_clean_stop(make_client: ClientFactory) -> None:
    watcher = make_client(prefix="watcher")
    await watcher.start()
    await watcher.wait_connected(CONNECT_S)
    seen: list[tuple[bytes, bool]] = []
    await watcher.subscribe("agent/status", lambda m: seen.append((m.payload, m.retain)))
    agent = make_client(prefix="agent")
    await agent.start()
    await agent.wait_connected(CONNECT_S)
    await until(lambda: (b"online", False) in seen)
    await agent.close()
    await until(lambda: seen[-1][0] == b"offline")
    # A late subscriber learns the state from the retained message.
    late: list[tuple[bytes, bool]] = []
    await watcher.subscribe("agent/status", lambda m: late.append((m.payload, m.retain)))
    await until(lambda: late == [(b"offline", True)])


async def test_last_will_published_when_the_process_dies(
    make_client: ClientFactory, broker: MosquittoBroker
) -> None:
    # Guards the will being set before connect: a crash (no DISCONNECT) must still say offline.
    watcher = make_client(prefix="watcher")
    await watcher.start()
    await watcher.wait_connected(CONNECT_S)
    seen: list[bytes] = []
    await watcher.subscribe("doomed/status", lambda m: seen.append(m.payload))
    script = textwrap.dedent(f"""
        import asyncio, sys
        from drivers.mqtt.client import MqttClient
        from drivers.mqtt.settings import BrokerSettings
        async def main():
            c = MqttClient(BrokerSettings(host="{broker.host}", port={broker.port}, prefix="doomed",
                                          keepalive_s=5))
            await c.start()
            await c.wait_connected(5)
            print("up", flush=True)
            await asyncio.sleep(60)
        asyncio.run(main())
    """)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 10)
        assert line.strip() == b"up"
        await until(lambda: b"online" in seen)
        proc.send_signal(signal.SIGKILL)
        await until(lambda: seen[-1] == b"offline")
    finally:
        if proc.returncode is None:
            proc.kill()
        await asyncio.wait_for(proc.wait(), 5)


async def test_broker_restart_reconnects_and_resubscribes(
    make_client: ClientFactory, broker: MosquittoBroker
) -> None:
    sub = make_client(prefix="sub")
    pub = make_client(prefix="pub")
    await sub.start()
    await pub.start()
    await sub.wait_connected(CONNECT_S)
    await pub.wait_connected(CONNECT_S)
    got: list[bytes] = []
    await sub.subscribe("m/value", lambda m: got.append(m.payload))
    await pub.publish("m/value", b"1")
    await until(lambda: got == [b"1"])

    await asyncio.to_thread(broker.stop)
    await until(lambda: sub.state is ConnectionState.DISCONNECTED)
    with pytest.raises(MqttNotConnected):
        await sub.publish("m/value", b"lost")
    assert isinstance(sub.last_error, MqttNotConnected)
    assert issubclass(MqttNotConnected, DeviceUnavailable)

    await asyncio.to_thread(broker.start)  # same port, no persistence: subscriptions are gone
    await sub.wait_connected(10)
    await pub.wait_connected(10)
    assert sub.connects == 2
    # The broker forgot our subscription; only our resubscribe makes this arrive.
    await until(lambda: _published(pub, "m/value", b"2", got), 10)
    assert got[0] == b"1"
    assert b"2" in got


def _published(pub: MqttClient, topic: str, payload: bytes, got: list[bytes]) -> bool:
    # The resubscribe races our publish right after reconnect: publish until it comes through.
    if payload in got:
        return True
    asyncio.get_running_loop().create_task(pub.publish(topic, payload, qos=0))
    return False


async def test_publish_while_never_connected_is_refused(broker: MosquittoBroker) -> None:
    client = MqttClient(BrokerSettings(host=broker.host, port=broker.port))
    with pytest.raises(MqttNotConnected):
        await client.publish("x", b"1")


async def test_connect_timeout_names_the_reason(tmp_path: Path) -> None:
    from tests.support.mosquitto import free_port

    client = MqttClient(BrokerSettings(host="127.0.0.1", port=free_port(), reconnect_max_s=1))
    await client.start()
    try:
        with pytest.raises(MqttTimeout, match="cannot connect") as info:
            await client.wait_connected(1.5)
        assert isinstance(info.value, DeviceTimeout)
        assert isinstance(info.value, TimeoutError)
    finally:
        await client.close()


async def test_handler_error_does_not_stop_other_handlers(make_client: ClientFactory) -> None:
    c = make_client()
    await c.start()
    await c.wait_connected(CONNECT_S)
    got: list[bytes] = []

    def broken(_m: Message) -> None:
        raise ValueError("handler bug")

    await c.subscribe("t", broken)
    await c.subscribe("t", lambda m: got.append(m.payload))
    await c.publish("t", b"x")
    await until(lambda: got == [b"x"])
    assert c.handler_errors == 1


async def test_closed_subscription_receives_nothing(make_client: ClientFactory) -> None:
    c = make_client()
    await c.start()
    await c.wait_connected(CONNECT_S)
    first: list[bytes] = []
    second: list[bytes] = []
    s1 = await c.subscribe("t", lambda m: first.append(m.payload))
    await c.subscribe("u", lambda m: second.append(m.payload))
    s1.close()
    await c.publish("t", b"after-close")
    await c.publish("u", b"marker")
    await until(lambda: second == [b"marker"])
    assert first == []


class _MuteBroker:
    """Accepts MQTT 3.1.1 connections and answers CONNACK, then never acknowledges anything."""

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> _MuteBroker:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(1024)  # CONNECT
            writer.write(bytes([0x20, 0x02, 0x00, 0x00]))
            await writer.drain()
            while await reader.read(1024):
                pass
            writer.close()

        self.server = await asyncio.start_server(serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()


async def test_publish_without_puback_times_out() -> None:
    async with _MuteBroker() as mute:
        client = MqttClient(BrokerSettings(host="127.0.0.1", port=mute.port, protocol="3.1.1"))
        await client.start()
        try:
            await client.wait_connected(CONNECT_S)
            with pytest.raises(MqttTimeout, match="no acknowledgement"):
                await client.publish("x", b"1", qos=1, timeout_s=0.3)
        finally:
            client._paho.disconnect()
            await client.close()


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_bad_credentials_raise_auth_error_and_back_off(tmp_path: Path, protocol: str) -> None:
    with MosquittoBroker(tmp_path / "b", users={"hems": "right"}) as broker:
        bad = MqttClient(
            BrokerSettings(
                host=broker.host, port=broker.port, username="hems", password="wrong", protocol=protocol
            )
        )
        good = MqttClient(
            BrokerSettings(
                host=broker.host, port=broker.port, username="hems", password="right", protocol=protocol
            )
        )
        await bad.start()
        await good.start()
        try:
            with pytest.raises(MqttAuthError) as info:
                await bad.wait_connected(CONNECT_S)
            assert isinstance(info.value, AuthError)
            assert bad.state is ConnectionState.AUTH_FAILED
            await good.wait_connected(CONNECT_S)
            # Auth failures wait auth_retry_s (300 s) before retrying: no new attempts in the log.
            # The broker writes its log a moment after it answers the client: wait for the refusal
            # to be written before counting (a loaded run once counted none).
            await until(lambda: broker.log_tail(200).count("not authorised") >= 1)
            attempts = broker.log_tail(200).count("not authorised")
            await asyncio.sleep(1.5)  # reconnect_min_s is 1: a fast retry would show up here
            assert broker.log_tail(200).count("not authorised") == attempts
            assert bad.state is ConnectionState.AUTH_FAILED
        finally:
            await bad.close()
            await good.close()


async def test_tls_with_the_right_ca_connects_and_wrong_ca_does_not(tmp_path: Path) -> None:
    with MosquittoBroker(tmp_path / "b", tls=True) as broker:
        assert broker.ca_file is not None
        ok = MqttClient(BrokerSettings(host=broker.host, port=broker.port, tls=True, ca_file=broker.ca_file))
        from tests.support.mosquitto import make_tls_files

        other_ca, _, _ = make_tls_files(tmp_path / "other")
        untrusted = MqttClient(
            BrokerSettings(host=broker.host, port=broker.port, tls=True, ca_file=other_ca, reconnect_max_s=1)
        )
        await ok.start()
        await untrusted.start()
        try:
            await ok.wait_connected(CONNECT_S)
            got: list[bytes] = []
            await ok.subscribe("secure/t", lambda m: got.append(m.payload))
            await ok.publish("secure/t", b"over tls")
            await until(lambda: got == [b"over tls"])
            with pytest.raises(MqttTimeout):
                await untrusted.wait_connected(1.5)
            assert isinstance(untrusted.last_error, MqttNotConnected)
        finally:
            await ok.close()
            await untrusted.close()
