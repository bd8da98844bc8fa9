"""``python -m bench.simulate --json`` prints the measurement object."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.simulate import main
from tests.fast.conftest import scenario_yaml

KEYS = {"scenario", "sim_days", "wall_s", "sim_days_per_wall_s", "plans", "plan_ms_median", "peak_rss_mb"}


def test_the_benchmark_prints_its_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sc = tmp_path / "short.yaml"
    sc.write_text(scenario_yaml("short", 0.05), encoding="utf-8")
    assert main(["--scenario", str(sc), "--json", "--profile"]) == 0
    printed = capsys.readouterr()
    out = json.loads(printed.out)
    assert set(out) >= KEYS
    # The run's KPIs go to stderr with --json too (stdout stays the benchmark's object alone).
    (kpis_line,) = [line for line in printed.err.splitlines() if line.startswith("kpis: ")]
    assert json.loads(kpis_line.removeprefix("kpis: "))["plans"] == out["plans"]
    assert out["scenario"] == "short"
    assert out["sim_days"] == 0.05
    assert out["plans"] > 0
    assert out["plan_ms_median"] > 0
    assert out["sim_days_per_wall_s"] == pytest.approx(0.05 / out["wall_s"], rel=0.01)
    assert set(out["profile_s"]) >= {"solver", "agent", "world", "event_loop"}
