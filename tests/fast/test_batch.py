"""``hems simulate`` with several scenarios: one JSON list or one table, runs in parallel processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.cli.cmd_simulate import _print
from hil.sim.batch import Outcome
from hil.sim.kpi import KPI_KEYS
from tests.fast.conftest import scenario_yaml

ROOT = Path(__file__).parents[2]
HEMS = [sys.executable, "-m", "agent.cli.main"]


def _write(path: Path, name: str, seed: int) -> Path:
    path.write_text(scenario_yaml(name, 0.05, seed=seed), encoding="utf-8")
    return path


def test_a_batch_prints_one_json_list_in_order(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.yaml", "home a", 1)
    b = _write(tmp_path / "b.yaml", "home b", 2)
    out = subprocess.run(
        [*HEMS, "simulate", "--scenario", str(a), str(b), "--fast", "--jobs", "2", "--json"],
        capture_output=True, text=True, timeout=300, check=False, cwd=ROOT,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    rows = json.loads(out.stdout)
    assert [r["scenario"] for r in rows] == ["home a", "home b"]
    assert [r["mode"] for r in rows] == ["fast", "fast"]
    for r in rows:
        assert tuple(k for k in r if k not in ("scenario", "mode")) == KPI_KEYS
        assert r["plans"] > 0
    assert "home a: check no_transaction_lost: ok" in out.stderr
    assert "home b: check no_transaction_lost: ok" in out.stderr


def _outcome(name: str, cost: float) -> Outcome:
    return Outcome(name, "fast", 1.0, {"cost": cost, "plans": 3}, {}, True, 1.0)


def test_the_table_has_a_column_per_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    _print([_outcome("summer", 1.5), _outcome("winter", 9.25)], as_json=False, batch=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["summer", "winter"]
    assert lines[1].split() == ["cost", "1.5", "9.25"]
    assert lines[2].split() == ["plans", "3", "3"]


def test_a_bad_scenario_in_a_batch_is_a_usage_error_naming_the_key(tmp_path: Path) -> None:
    good = _write(tmp_path / "good.yaml", "good", 1)
    bad = tmp_path / "bad.yaml"
    bad.write_text(scenario_yaml("bad", 0.05, seed=-3), encoding="utf-8")
    out = subprocess.run(
        [*HEMS, "simulate", "--scenario", str(good), str(bad), "--fast"],
        capture_output=True, text=True, timeout=60, check=False, cwd=ROOT,
    )  # fmt: skip
    assert out.returncode == 2
    assert "simulate.seed" in out.stderr


def test_two_processes_with_different_hash_seeds_print_the_same_bytes(tmp_path: Path) -> None:
    # Guards against an order that depends on str hashing (set iteration) leaking into a run.
    sc = _write(tmp_path / "one.yaml", "one", 5)
    outs = []
    for hash_seed in ("1", "2"):
        out = subprocess.run(
            [*HEMS, "simulate", "--scenario", str(sc), "--fast", "--json"],
            capture_output=True, text=True, timeout=300, check=False, cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
        )  # fmt: skip
        assert out.returncode == 0, out.stderr[-3000:]
        outs.append(out.stdout)
    assert outs[0] == outs[1]
    assert json.loads(outs[0])["plans"] > 0
