"""Checks that span sections: names that must refer to something defined elsewhere.

They work on the raw (parsed YAML) data and tolerate any shape, so they run even when other
parts of the file fail validation: the user sees every problem in one go, not one per attempt.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.config.devices import ROLES
from agent.config.types import suggest
from drivers.modbus.sunspec.families import ROLE_MODELS, ROLE_NEEDS

Finding = tuple[tuple[str, ...], str]

_DURATION_S = {"PT5M": 300, "PT15M": 900, "PT1H": 3600}
_DEFAULT_STEP = "PT15M"
_DEFAULT_HORIZON_H = 24
_DEFAULT_COMMITMENT_H = 24


def cross_check(data: Any) -> list[Finding]:
    if not isinstance(data, Mapping):
        return []
    findings: list[Finding] = []
    devices = data.get("devices")
    if isinstance(devices, Mapping):
        findings += _meter_count(devices)
        findings += _broker_refs(devices, data.get("mqtt_brokers"))
        findings += _sunspec_roles(devices)
    retailer = data.get("retailer")
    if isinstance(retailer, Mapping) and isinstance(retailer.get("broker"), str):
        findings += _broker_ref(("retailer", "broker"), retailer["broker"], data.get("mqtt_brokers"))
    web = data.get("web")
    ha = web.get("home_assistant") if isinstance(web, Mapping) else None
    if isinstance(ha, Mapping) and isinstance(ha.get("broker"), str):
        findings += _broker_ref(("web", "home_assistant", "broker"), ha["broker"], data.get("mqtt_brokers"))
    findings += _timing(data)
    return findings


def _meter_count(devices: Mapping[Any, Any]) -> list[Finding]:
    meters = [
        str(name) for name, dev in devices.items() if isinstance(dev, Mapping) and dev.get("role") == "meter"
    ]
    if not meters:
        return [(("devices",), "exactly one device with role 'meter' is required (found none)")]
    return [
        (("devices", name, "role"), f"exactly one device with role 'meter' is allowed (also: {meters[0]})")
        for name in meters[1:]
    ]


def _broker_refs(devices: Mapping[Any, Any], brokers: Any) -> list[Finding]:
    findings: list[Finding] = []
    for name, dev in devices.items():
        driver = dev.get("driver") if isinstance(dev, Mapping) else None
        if (
            isinstance(driver, Mapping)
            and driver.get("type") == "mqtt"
            and isinstance(driver.get("broker"), str)
        ):
            findings += _broker_ref(("devices", str(name), "driver", "broker"), driver["broker"], brokers)
    return findings


def _sunspec_roles(devices: Mapping[Any, Any]) -> list[Finding]:
    """A SunSpec unit serves a meter, a PV inverter or a battery, from the models that role reads."""
    findings: list[Finding] = []
    for name, dev in devices.items():
        driver = dev.get("driver") if isinstance(dev, Mapping) else None
        if not isinstance(driver, Mapping) or driver.get("sunspec") is not True:
            continue
        role = dev.get("role")
        path = ("devices", str(name), "driver")
        if role not in ROLES:
            continue  # the role's own validation says what is wrong with it
        if role not in ROLE_NEEDS:
            served = ", ".join(ROLE_NEEDS)
            findings.append(
                (
                    (*path, "sunspec"),
                    f"a SunSpec unit cannot serve role {role!r}; it serves the roles {served}",
                )
            )
            continue
        instances = driver.get("sunspec_instances")
        for model in instances if isinstance(instances, Mapping) else ():
            if isinstance(model, int) and model not in ROLE_MODELS[role]:
                capability, needs = ROLE_NEEDS[role]
                findings.append(
                    (
                        (*path, "sunspec_instances", str(model)),
                        f"a {role} does not read SunSpec model {model}; it needs {capability} from {needs}",
                    )
                )
    return findings


def _broker_ref(path: tuple[str, ...], name: str, brokers: Any) -> list[Finding]:
    known = [str(k) for k in brokers] if isinstance(brokers, Mapping) else []
    if name in known:
        return []
    if not known:
        return [(path, f"names broker '{name}' but no mqtt_brokers are defined")]
    return [
        (path, f"unknown broker '{name}'; defined in mqtt_brokers: {', '.join(known)}{suggest(name, known)}")
    ]


def _timing(data: Mapping[Any, Any]) -> list[Finding]:
    planner = data.get("planner", {})
    market = data.get("market", {})
    planner = planner if isinstance(planner, Mapping) else {}
    market = market if isinstance(market, Mapping) else {}
    findings: list[Finding] = []
    metering = data.get("metering_interval", _DEFAULT_STEP)
    step = planner.get("step", _DEFAULT_STEP)
    # The planner's step must be a whole number of metering intervals for positions to settle.
    step_s = _DURATION_S.get(step, 0) if isinstance(step, str) else 0
    metering_s = _DURATION_S.get(metering, 0) if isinstance(metering, str) else 0
    if 0 < step_s < metering_s:
        findings.append(
            (("planner", "step"), f"must not be shorter than metering_interval {metering} (got {step})")
        )
    horizon = planner.get("horizon_h", _DEFAULT_HORIZON_H)
    window = market.get("commitment_window_h", _DEFAULT_COMMITMENT_H)
    if _is_int(horizon) and _is_int(window) and window > horizon:
        findings.append(
            (
                ("market", "commitment_window_h"),
                f"must be <= planner.horizon_h {horizon}, as the agent cannot commit beyond its plan "
                f"(got {window})",
            )
        )
    return findings


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
