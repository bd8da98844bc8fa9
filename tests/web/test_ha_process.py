"""``hems run`` as a process on a real Mosquitto, seen from Home Assistant's side: a killed agent
goes unavailable (the broker publishes its last will on the topic the discovery configs name),
a setting made from HA survives the kill and the restart, and no energy HA has seen is taken back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.mosquitto import MosquittoBroker, free_port
from tests.web.client import request
from tests.web.ha_listener import HaListener

MINIMAL = Path(__file__).parents[2] / "configs" / "minimal.yaml"
SITE = "home"  # the site id of configs/minimal.yaml
STATUS = f"hems/{SITE}/status"
STATE = f"hems/{SITE}/state"
NOON = "2026-06-15T12:00:00+02:00"  # the sun is up: the PV energy counter rises
START_S = 90.0  # the first cycle plans, which compiles the QP: slow on a loaded CI box


def _config(tmp_path: Path, broker: MosquittoBroker) -> tuple[Path, int]:
    path, web_port = tmp_path / "hems.yaml", free_port()
    path.write_text(
        MINIMAL.read_text()
        + "  pv:\n    role: pv_inverter\n    peak_kw: 6\n    driver:\n      type: simulated\n"
        + f"\nstate_dir: {tmp_path / 'state'}\n"
        + f"mqtt_brokers:\n  local:\n    host: {broker.host}\n    port: {broker.port}\n    keepalive_s: 5\n"
        + f"web:\n  port: {web_port}\n  home_assistant:\n    broker: local\n    publish_every_s: 30\n"
    )
    return path, web_port


def _start(config: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("STATE_DIRECTORY", "NOTIFY_SOCKET")}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agent.cli.main",
            "run",
            "--config",
            str(config),
            "--speed",
            "30",
            "--start",
            NOON,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    with MosquittoBroker(tmp_path / "broker") as b:
        yield b


def test_killed_agent_goes_unavailable_and_its_settings_survive(
    tmp_path: Path, broker: MosquittoBroker
) -> None:
    config, _ = _config(tmp_path, broker)
    ha = HaListener(broker.host, broker.port, ["homeassistant/#", f"hems/{SITE}/#"])
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(_start(config))
        cfg = json.loads(
            ha.wait_for(
                "homeassistant/switch/hems_home/paused/config", lambda p: True, "discovery config", START_S
            )
        )
        # The defect: the configs named .../availability while the last will went to .../status.
        assert cfg["availability_topic"] == STATUS
        ha.wait_for(STATUS, lambda p: p == b"online", "the agent online")
        ha.publish(f"hems/{SITE}/set/paused", "ON")
        ha.wait_json(STATE, lambda s: s["paused"] is True, "the pause from HA in the state document")
        ha.wait_json(STATE, lambda s: s["pv_energy_kwh"] > 0, "PV energy counted")

        procs[0].send_signal(signal.SIGKILL)
        procs[0].wait(10)
        # No goodbye from the agent: only the broker's last will can say this.
        ha.wait_for(STATUS, lambda p: p == b"offline", "the broker's last will after SIGKILL")
        assert (tmp_path / "state" / "settings.json").exists()

        seen_before_kill = max(json.loads(p)["pv_energy_kwh"] for p in ha.history[STATE])
        ha.forget(STATE)
        procs.append(_start(config))
        ha.wait_for(STATUS, lambda p: p == b"online", "the restarted agent online", START_S)
        state = ha.wait_json(STATE, lambda s: True, "a state document from the restarted agent")
        assert state["paused"] is True
        # Energy HA has seen is never taken back, a crash in between or not.
        assert state["pv_energy_kwh"] >= seen_before_kill > 0
        ha.wait_json(STATE, lambda s: s["mode"] == "paused", "the restarted agent keeps the optimizer paused")

        # A clean stop sends no last will (the broker drops it on DISCONNECT): the agent says it.
        procs[1].send_signal(signal.SIGTERM)
        assert procs[1].wait(60) == 0
        ha.wait_for(STATUS, lambda p: p == b"offline", "offline after a clean stop")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        ha.close()


def test_damaged_settings_file_is_reported_and_the_agent_runs(
    tmp_path: Path, broker: MosquittoBroker
) -> None:
    config, port = _config(tmp_path, broker)
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "settings.json").write_bytes(b'{"format": 1, "settings": {"paused": tr')
    ha = HaListener(broker.host, broker.port, [f"hems/{SITE}/#"])
    proc = _start(config)
    try:
        state = ha.wait_json(STATE, lambda s: True, "a state document despite the damaged file")
        assert state["paused"] is False  # the configured default, not a guess from half a file
        answer = request(f"http://127.0.0.1:{port}", "GET", "/api/controls")
        assert answer.status == 200
        problem = json.loads(answer.body)["settings_problem"]
        assert "settings.json" in problem
        assert "not valid UTF-8 JSON" in problem
        assert (tmp_path / "state" / "settings.json.bad").exists()
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait(10)
        ha.close()
