"""``/metrics`` in the Prometheus text exposition format (version 0.0.4), written by hand.

Every family has HELP and TYPE lines; names carry their unit (``_watts``, ``_percent``,
``_celsius``, ``_seconds``) as Prometheus naming asks; label values are escaped. Gauges that have
no fresh value are left out rather than reported as 0: a stale reading is not a number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agent.web import live
from drivers.base import HealthState

if TYPE_CHECKING:
    from agent.runtime.app import RunningAgent

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


# Label values are cut to this many characters: a value is a name, not a payload.
MAX_LABEL_CHARS = 128


def escape(value: str) -> str:
    value = value[:MAX_LABEL_CHARS]
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{escape(v)}"' for k, v in labels.items()) + "}"


def _value(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(float(v))


@dataclass
class Family:
    name: str
    kind: str  # gauge | counter
    help: str
    samples: list[tuple[dict[str, str], float]] = field(default_factory=list)

    def add(self, value: float | None, **labels: str) -> None:
        if value is not None:
            self.samples.append((labels, float(value)))

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]
        lines += [f"{self.name}{_labels(labels)} {_value(v)}" for labels, v in self.samples]
        return lines


def families(agent: RunningAgent) -> list[Family]:
    state, timing = agent.state, agent.state.timing
    power = Family("hems_power_watts", "gauge", "Power flow, W (grid +import, battery and EV +charge).")
    for f in live.flows(agent):
        power.add(f.power_w, flow=f.key, source=f.source)
    readings = live.readings(agent)
    soc = Family("hems_soc_percent", "gauge", "State of charge, percent.")
    soc.add(readings.get("battery_soc_pct"), device="battery")
    soc.add(readings.get("ev_soc_pct"), device="ev")
    temp = Family("hems_temperature_celsius", "gauge", "Measured temperature, degrees Celsius.")
    temp.add(readings.get("indoor_c"), place="indoor")
    temp.add(readings.get("tank_c"), place="tank")
    price = Family(
        "hems_price_per_kwh", "gauge", f"Prices of the current plan step, {state.currency} per kWh."
    )
    for key, value in live.prices_now(agent).items():
        price.add(value, kind=key.removesuffix("_per_kwh"))
    health = Family("hems_device_up", "gauge", "1 when the device's last I/O succeeded (health ok).")
    health_state = Family("hems_device_health", "gauge", "Device health state (1 for the current one).")
    for name, entry in live.health(agent)["devices"].items():
        current = str(entry.get("state"))
        health.add(1.0 if current == HealthState.OK.value else 0.0, device=name)
        for s in HealthState:
            health_state.add(1.0 if s.value == current else 0.0, device=name, state=s.value)
    out = [
        power,
        soc,
        temp,
        price,
        health,
        health_state,
        _single("hems_cycles_total", "counter", "Control cycles completed.", timing.cycles),
        _single(
            "hems_cycle_seconds", "gauge", "Duration of the last control cycle.", timing.last_cycle_ms / 1000
        ),
        _single(
            "hems_plan_solve_seconds", "gauge", "Solve time of the last plan.", timing.last_plan_ms / 1000
        ),
        _single("hems_plans_total", "counter", "Plans made.", timing.plans),
        _single("hems_plan_failures_total", "counter", "Plans that failed.", timing.plan_failures),
        _single(
            "hems_optimizing",
            "gauge",
            "1 while the optimizer drives the devices.",
            state.mode == "optimising",
        ),
        _single(
            "hems_paused", "gauge", "1 while the householder paused the optimizer.", state.overrides.paused
        ),
    ]
    events = Family("hems_events_total", "counter", "Events the control cycle counted, by kind.")
    for key, n in sorted(state.counters.items()):
        events.add(n, kind=key)
    out.append(events)
    out += _link_families(agent)
    return out


def _single(name: str, kind: str, help_text: str, value: float | bool) -> Family:
    fam = Family(name, kind, help_text)
    fam.add(float(value))
    return fam


def _link_families(agent: RunningAgent) -> list[Family]:
    if agent.link is None:
        return []
    by_name: dict[str, Family] = {}
    # Structured samples, never a flattened text parsed back: a label value from a peer (its
    # closed-set label, escaped again here) cannot add or replace labels.
    for key, labels, value in agent.link.metric_samples():
        name = "hems_" + key
        kind = "gauge" if name.endswith("_pending") else "counter"
        fam = by_name.setdefault(name, Family(name, kind, f"Retailer link: {key[5:].replace('_', ' ')}."))
        fam.add(value, **labels)
    up = Family("hems_link_connected", "gauge", "1 while the retailer link's broker connection is up.")
    up.add(1.0 if agent.link.client.connected else 0.0)
    return [*by_name.values(), up]


def render(agent: RunningAgent) -> str:
    lines: list[str] = []
    for fam in families(agent):
        lines += fam.render()
    return "\n".join(lines) + "\n"
