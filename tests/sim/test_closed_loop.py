"""The closed loop end to end: ``hems simulate --json`` on the smoke scenario (three hours with a
fault of each kind), the demo serving its page, and ``hems hil`` printing a config that passes
``hems check-config``. Real processes, real sockets on loopback, Mosquitto."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from hil.rig_settings import free_port
from hil.sim.kpi import KPI_KEYS

ROOT = Path(__file__).parents[2]
SMOKE = ROOT / "hil" / "scenarios" / "smoke.yaml"
HEMS = [sys.executable, "-m", "agent.cli.main"]


def test_simulate_smoke_prints_the_kpis_and_holds_its_checks(tmp_path: Path) -> None:
    report = tmp_path / "report"
    out = subprocess.run(
        [*HEMS, "simulate", "--scenario", str(SMOKE), "--json", "--report", str(report)],
        capture_output=True, text=True, timeout=240, check=False, cwd=ROOT,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    kpis = json.loads(out.stdout)
    assert tuple(kpis) == KPI_KEYS
    assert abs(kpis["energy_balance_error_kwh"]) < 1e-6
    assert kpis["faults_injected"] == 10  # every fault of the scenario fired
    assert kpis["plans"] > 0
    assert kpis["transactions"] > 0
    assert "check no_transaction_lost: ok" in out.stderr
    assert "check devices_in_limits: ok" in out.stderr
    page = (report / "index.html").read_text()
    assert page.count("<svg") >= 6
    assert json.loads((report / "kpis.json").read_text()) == kpis


def test_simulate_refuses_a_bad_scenario_naming_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        'site: {tz: Europe/Berlin}\nstart: "2026-06-15T00:00:00+02:00"\ndays: 1\n'
        "grid: {import_limit_kw: 17, export_limit_kw: 10}\n"
        "simulate: {preset: summer, faults: [{at_h: 1, kind: meteor}]}\n"
    )
    cmd = [*HEMS, "simulate", "--scenario", str(bad)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False, cwd=ROOT)
    assert out.returncode == 2
    assert "simulate.faults[0].kind" in out.stderr


def _wait_http(url: str, proc: subprocess.Popen[str], timeout_s: float = 60.0) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                status: int = r.status
                return status
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} never answered")


def test_demo_starts_and_serves_its_page_on_mosquitto() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [*HEMS, "demo", "--port", str(port), "--duration-s", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in first
        assert _wait_http(f"http://127.0.0.1:{port}/", proc) == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_hil_prints_a_config_that_passes_check_config(tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    proc = subprocess.Popen(
        [*HEMS, "hil", "--scenario", str(SMOKE), "--state-dir", state, "--duration-s", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        while not lines or lines[-1].strip():  # the YAML document ends with a blank line
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else ""
            lines.append(line)
        config = tmp_path / "hems.yaml"
        config.write_text("".join(lines))
        cmd = [*HEMS, "check-config", str(config)]
        check = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False, cwd=ROOT)
        assert check.returncode == 0, check.stdout + check.stderr
        text = config.read_text()
        assert "retailer" in text
        assert "spot_spread_per_kwh: 0.02" in text  # the scenario's own, over the rig's
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
