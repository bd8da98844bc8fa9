"""``hems probe --config FILE [DEVICE]``: read every configured device once and show what it says.

For an installer checking wiring before starting the service: SunSpec models found, each
value with its unit and age, and the device's health. A device that answers but lacks what its
configured role needs (a battery without SunSpec model 802) fails, saying what is missing.
Exit 0 if every device answered with what its role needs, 1 if any failed, 2 for a
configuration problem.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, TextIO

from agent.clock import RealClock
from agent.config import ConfigError, load_config
from drivers.assembly import add_brokers, build_devices
from drivers.base import Device, DeviceContext, DeviceReport, stop_all
from drivers.errors import DriverConfigError, DriverError, StaleValue
from drivers.modbus.sunspec.device import SunSpecDevice
from drivers.modbus.sunspec.families import lacking

EXIT_OK, EXIT_RUNTIME, EXIT_USAGE = 0, 1, 2
# role -> the capabilities that serve it (any one), as the dispatcher uses them.
ROLE_CAPABILITIES: dict[str, tuple[str, ...]] = {
    "meter": ("energy_meter",),
    "pv_inverter": ("pv_inverter",),
    "battery": ("battery",),
    "ev_charger": ("ev_charger",),
    "heat_pump": ("thermostat", "switch"),
    "thermostat": ("thermostat", "switch"),
    "water_heater": ("water_heater", "switch"),
}


def register(sub: Any) -> None:
    p = sub.add_parser("probe", help="read every configured device once and print what it found")
    p.add_argument("--config", required=True, metavar="FILE", help="the hems YAML configuration")
    p.add_argument("device", nargs="*", help="only these devices (default: all)")
    # 10 s: pushed (MQTT) values arrive within their publish period; retained ones at once.
    p.add_argument("--wait-s", type=float, default=10.0, help="how long to wait for pushed values")
    p.set_defaults(handler=run)


async def _probe_one(
    device: Device, role: str, wait_s: float, clock: RealClock
) -> tuple[DeviceReport, str | None]:
    """Start and refresh ``device``: its report, taken at once, and the error text if it failed."""
    error = await _refresh(device, wait_s, clock)
    report = device.report()
    return report, error or _lacking(device, role, report)


def _lacking(device: Device, role: str, report: DeviceReport) -> str | None:
    """What the device lacks for its role, in words; None when it offers what the role needs."""
    wanted = ROLE_CAPABILITIES.get(role, ())
    if any(c in report.capabilities for c in wanted):
        return None
    if isinstance(device, SunSpecDevice):
        text = lacking(role, device.model_ids)
        if text is not None:
            return text
    offered = ", ".join(report.capabilities) or "none"
    return f"role {role} needs capability {' or '.join(wanted)}; the device offers {offered}"


async def _refresh(device: Device, wait_s: float, clock: RealClock) -> str | None:
    deadline = clock.monotonic_s() + wait_s
    # Beyond the wait for pushed values, 5 s for start-up and a last poll to finish.
    limit_s = wait_s + 5.0
    try:
        async with asyncio.timeout(limit_s):
            await device.start()
            while True:
                try:
                    await device.refresh()
                    return None
                except StaleValue:
                    # Pushed values may not have arrived yet: wait for them up to the deadline.
                    if clock.monotonic_s() >= deadline:
                        raise
                    await clock.sleep(0.25)
    except DriverError as e:
        # Before TimeoutError: a device's own timeout (DeviceTimeout is one) names its real limit.
        return f"{type(e).__name__}: {e}"
    except TimeoutError:
        return f"the probe gave up after {limit_s:g} s"


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        # 12 significant digits: a counter's last decimal shows (123456.7 kWh, not 123457), and
        # the noise of scaling (12345.600000000002) does not.
        return f"{value:.12g}"
    return str(value)


def print_report(report: DeviceReport, error: str | None, clock: RealClock, out: TextIO) -> None:
    status = "FAILED" if error else "ok"
    print(f"{report.device} ({report.driver}): {status}", file=out)
    for key, value in report.info.items():
        print(f"  {key}: {value}", file=out)
    if report.capabilities:
        print(f"  capabilities: {', '.join(report.capabilities)}", file=out)
    width = max((len(n) for n in (*report.values, *report.errors)), default=0)
    for name, reading in sorted(report.values.items()):
        unit = f" {reading.unit}" if reading.unit else ""
        print(
            f"  {name:<{width}}  {_format_value(reading.value)}{unit}  ({reading.age_s(clock):.1f} s old)",
            file=out,
        )
    for name, reason in sorted(report.errors.items()):
        print(f"  {name:<{width}}  -- {reason}", file=out)
    h = report.health
    line = f"  health: {h.state.value}"
    if h.consecutive_failures:
        line += f", {h.consecutive_failures} failure(s), last: {h.last_error}"
    print(line, file=out)
    if error:
        print(f"  error: {error}", file=out)


async def probe(config_path: str, names: list[str], wait_s: float, out: TextIO) -> int:
    config = load_config(config_path)
    clock = RealClock()
    ctx = DeviceContext(clock)
    add_brokers(config, ctx, client_suffix="-probe")
    devices = build_devices(config, ctx, names or None)
    try:
        results = await asyncio.gather(
            *(_probe_one(d, config.devices[n].role, wait_s, clock) for n, d in devices.items())
        )
        for report, error in results:
            print_report(report, error, clock, out)
        return EXIT_RUNTIME if any(error for _, error in results) else EXIT_OK
    finally:
        await stop_all(list(devices.values()))
        await ctx.links.close_all()


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(probe(args.config, list(args.device), args.wait_s, sys.stdout))
    except ConfigError as e:
        print(f"hems probe: {e}", file=sys.stderr)
        return EXIT_USAGE
    except DriverConfigError as e:
        print(f"hems probe: configuration: {e}", file=sys.stderr)
        return EXIT_USAGE
