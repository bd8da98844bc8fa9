"""/metrics: valid Prometheus text exposition, with the families the agent documents."""

from __future__ import annotations

import math
import re

from tests.web.client import request
from tests.web.home import WebHome

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABELS = (
    r"(\{("
    + r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
    + r')(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*\})?'
)
SAMPLE = re.compile(rf"^({NAME}){LABELS} (\S+)$")


def parse(text: str) -> dict[str, dict[str, float]]:
    """family -> {labels text: value}; fails on any line the format does not allow."""
    assert text.endswith("\n")
    types: dict[str, str] = {}
    helped: set[str] = set()
    out: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helped.add(line.split(" ")[2])
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("gauge", "counter"), line
            assert name not in types, f"{name} typed twice"
            types[name] = kind
            continue
        m = SAMPLE.match(line)
        assert m is not None, f"not a sample line: {line!r}"
        name, labels, value = m.group(1), m.group(2) or "", m.group(len(m.groups()))
        assert name in types and name in helped, f"{name} has no TYPE/HELP"
        number = float(value)  # NaN and +Inf are spelled so that float() reads them
        assert not math.isnan(number) or value == "NaN"
        out.setdefault(name, {})[labels] = number
    return out


def test_metrics_exposition(home: WebHome) -> None:
    a = request(home.base_url, "GET", "/metrics")
    assert a.status == 200
    assert a.headers["content-type"].startswith("text/plain; version=0.0.4")
    m = parse(a.body.decode())
    power = m["hems_power_watts"]
    assert any('flow="pv"' in k for k in power) and any('flow="grid"' in k for k in power)
    assert 0 <= m["hems_soc_percent"]['{device="battery"}'] <= 100
    assert '{place="indoor"}' in m["hems_temperature_celsius"]
    assert m["hems_plan_solve_seconds"][""] > 0
    assert m["hems_cycle_seconds"][""] > 0
    assert m["hems_cycles_total"][""] >= 1
    assert set(m["hems_device_up"]) == {f'{{device="{d}"}}' for d in home.config.devices}
    assert any('kind="tender"' in k for k in m["hems_link_received_total"])  # message counts
    assert "hems_link_errors_out_total" in m and "hems_link_connected" in m
    assert any("marginal_value" in k for k in m["hems_price_per_kwh"])


def test_counters_only_grow(home: WebHome) -> None:
    first = parse(request(home.base_url, "GET", "/metrics").body.decode())
    home.wait_for(lambda a: a.state.timing.cycles > first["hems_cycles_total"][""], "another cycle")
    second = parse(request(home.base_url, "GET", "/metrics").body.decode())
    assert second["hems_cycles_total"][""] > first["hems_cycles_total"][""]
    for key, value in first["hems_link_received_total"].items():
        assert second["hems_link_received_total"][key] >= value
