"""``hems run`` as systemd runs it: READY after the first cycle, SIGHUP reload (a broken file is
refused and the agent keeps running), SIGTERM stops it cleanly with STOPPING first. The notify
socket is a real AF_UNIX datagram socket."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

MINIMAL = Path(__file__).parents[2] / "configs" / "minimal.yaml"


def _config(path: Path, state: Path, extra: str = "") -> None:
    # The web page is off: this test is about the service contract, and port 8080 may be taken.
    path.write_text(MINIMAL.read_text() + f"\nstate_dir: {state}\nweb:\n  enabled: false\n" + extra)


def _wait_for(sock: socket.socket, wanted: str, timeout_s: float = 60.0) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            message = sock.recv(4096).decode()
        except TimeoutError:
            break
        seen.append(message)
        if wanted in message.split("\n"):
            return seen
    raise AssertionError(f"{wanted} not received; got {seen}")


@pytest.fixture
def notify_socket(tmp_path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify"))
    return sock


def test_ready_reload_and_stop(tmp_path: Path, notify_socket: socket.socket) -> None:
    config = tmp_path / "hems.yaml"
    _config(config, tmp_path / "state")
    env = {k: v for k, v in os.environ.items() if k != "STATE_DIRECTORY"}
    env["NOTIFY_SOCKET"] = str(tmp_path / "notify")
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.cli.main", "run", "--config", str(config), "--speed", "30"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(notify_socket, "READY=1")
        # A broken file: refused, the agent keeps running and says nothing to systemd.
        config.write_text(config.read_text() + "\nbogus_key: 1\n")
        proc.send_signal(signal.SIGHUP)
        time.sleep(1.0)
        assert proc.poll() is None
        # A good file: RELOADING, then READY again after the first cycle of the new config.
        _config(config, tmp_path / "state")
        proc.send_signal(signal.SIGHUP)
        seen = _wait_for(notify_socket, "READY=1")
        assert any("RELOADING=1" in m for m in seen)
        proc.send_signal(signal.SIGTERM)
        _wait_for(notify_socket, "STOPPING=1")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        stderr = proc.stderr.read() if proc.stderr else ""
    assert "reload refused" in stderr
    assert "bogus_key" in stderr
    assert (tmp_path / "state" / "ledger.sqlite3").exists()


def test_broken_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "hems.yaml"
    _config(config, tmp_path / "state", "\nmetering_interval: PT7M\n")
    out = subprocess.run(
        [sys.executable, "-m", "agent.cli.main", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 2
    assert "metering_interval" in out.stderr
