"""sd_notify against real AF_UNIX datagram sockets (a path in a temp dir, and an abstract name)."""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.systemd import Notifier, NotifyError, Watchdog, watchdog_period_s


class Listener:
    """What systemd does: bind a datagram socket and read what the service sends."""

    def __init__(self, address: str | bytes) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.sock.settimeout(2.0)

    def receive(self) -> list[str]:
        return self.sock.recv(4096).decode().split("\n")

    def nothing_pending(self) -> bool:
        self.sock.setblocking(False)
        try:
            self.sock.recv(4096)
        except BlockingIOError:
            return True
        finally:
            self.sock.settimeout(2.0)
        return False


@pytest.fixture
def path_socket(tmp_path: Path) -> Iterator[tuple[str, Listener]]:
    path = str(tmp_path / "notify")
    listener = Listener(path)
    yield path, listener
    listener.sock.close()


def test_ready_status_stopping_over_a_path_socket(path_socket: tuple[str, Listener]) -> None:
    path, listener = path_socket
    n = Notifier.from_environment({"NOTIFY_SOCKET": path})
    assert n.enabled
    assert n.ready("first cycle ok")
    assert listener.receive() == ["READY=1", "STATUS=first cycle ok"]
    assert n.status("dispatching\n3 devices")  # a newline would split the assignment
    assert listener.receive() == ["STATUS=dispatching 3 devices"]
    assert n.stopping()
    assert listener.receive() == ["STOPPING=1"]
    assert n.watchdog_ping()
    assert listener.receive() == ["WATCHDOG=1"]


def test_reloading_carries_the_hosts_monotonic_time(path_socket: tuple[str, Listener]) -> None:
    path, listener = path_socket
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    assert Notifier(path).reloading()
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    lines = listener.receive()
    assert lines[0] == "RELOADING=1"
    key, _, value = lines[1].partition("=")
    assert key == "MONOTONIC_USEC"
    assert before <= int(value) <= after


def test_abstract_socket() -> None:
    name = f"hems-test-{uuid.uuid4().hex}"
    listener = Listener(b"\0" + name.encode())
    try:
        assert Notifier.from_environment({"NOTIFY_SOCKET": "@" + name}).ready()
        assert listener.receive() == ["READY=1"]
    finally:
        listener.sock.close()


def test_no_op_outside_systemd() -> None:
    n = Notifier.from_environment({})
    assert not n.enabled
    assert n.ready() is False
    assert n.watchdog_ping() is False


@pytest.mark.parametrize(("value", "field"), [("relative/sock", "NOTIFY_SOCKET"), ("@", "NOTIFY_SOCKET")])
def test_malformed_socket_variable_is_named(value: str, field: str) -> None:
    with pytest.raises(NotifyError, match=field):
        Notifier.from_environment({"NOTIFY_SOCKET": value})


def test_unset_removes_the_variable_for_children(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "x"))
    n = Notifier.from_environment(unset=True)
    assert n.enabled
    assert "NOTIFY_SOCKET" not in os.environ


def test_a_vanished_socket_does_not_raise_and_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The agent must keep controlling the home while systemd's socket is briefly gone.
    caplog.set_level(logging.DEBUG, "agent.systemd")
    path = str(tmp_path / "notify")
    n = Notifier(path)
    assert n.watchdog_ping() is False
    assert n.watchdog_ping() is False
    assert sum("failed" in r.message for r in caplog.records) == 1  # logged once, not per ping
    listener = Listener(path)
    try:
        assert n.watchdog_ping()
        assert listener.receive() == ["WATCHDOG=1"]
        assert any("recovered" in r.message for r in caplog.records)
    finally:
        listener.sock.close()


def test_bad_assignment_is_refused(path_socket: tuple[str, Listener]) -> None:
    with pytest.raises(ValueError, match="KEY=VALUE"):
        Notifier(path_socket[0]).notify("READY")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"WATCHDOG_USEC": "60000000"}, 60.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1234"}, 30.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "999"}, None),  # inherited: not ours
    ],
)
def test_watchdog_period(env: dict[str, str], expected: float | None) -> None:
    assert watchdog_period_s(env, pid=1234) == expected


@pytest.mark.parametrize(
    ("env", "field"),
    [
        ({"WATCHDOG_USEC": "soon"}, "WATCHDOG_USEC"),
        ({"WATCHDOG_USEC": "0"}, "WATCHDOG_USEC"),
        ({"WATCHDOG_USEC": "5", "WATCHDOG_PID": "me"}, "WATCHDOG_PID"),
    ],
)
def test_watchdog_garbage_is_named(env: dict[str, str], field: str) -> None:
    with pytest.raises(NotifyError, match=field):
        watchdog_period_s(env)


def test_watchdog_pings_only_while_the_cycle_beats(path_socket: tuple[str, Listener]) -> None:
    path, listener = path_socket
    now = [100.0]
    dog = Watchdog(Notifier(path), environ={"WATCHDOG_USEC": "10000000"}, monotonic_s=lambda: now[0])
    assert dog.enabled
    assert dog.interval_s == 5.0
    assert dog.ping_if_alive() is False  # no cycle has completed yet
    dog.beat()
    now[0] += 4.0
    assert dog.ping_if_alive()
    assert listener.receive() == ["WATCHDOG=1"]
    now[0] += 7.0  # the cycle hung: 11 s since the last beat > the 10 s period
    assert dog.ping_if_alive() is False
    assert listener.nothing_pending()
    dog.beat()
    assert dog.ping_if_alive()
    assert listener.receive() == ["WATCHDOG=1"]
    assert dog.pings == 2


async def test_watchdog_task_pings_at_half_the_period(path_socket: tuple[str, Listener]) -> None:
    import asyncio

    path, listener = path_socket
    dog = Watchdog(Notifier(path), period_s=0.2)
    task = asyncio.create_task(dog.run())
    try:
        for _ in range(8):  # a healthy cycle beating every 0.05 s for 0.4 s
            dog.beat()
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
    assert 3 <= dog.pings <= 6  # every 0.1 s: about 4, never one per beat
    assert listener.receive() == ["WATCHDOG=1"]


async def test_watchdog_task_returns_when_disabled() -> None:
    await Watchdog(Notifier(None), period_s=1.0).run()  # must not loop forever
