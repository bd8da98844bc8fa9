"""``hems probe --config FILE [DEVICE]``: read every configured device once and show what it says.

For an installer checking wiring before starting the service: SunSpec models found, each
value with its unit and age, and the device's health. Exit 0 if every device answered,
1 if any failed, 2 for a configuration problem.
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

EXIT_OK, EXIT_RUNTIME, EXIT_USAGE = 0, 1, 2


def register(sub: Any) -> None:
    p = sub.add_parser("probe", help="read every configured device once and print what it found")
    p.add_argument("--config", required=True, metavar="FILE", help="the hems YAML configuration")
    p.add_argument("device", nargs="*", help="only these devices (default: all)")
    # 10 s: pushed (MQTT) values arrive within their publish period; retained ones at once.
    p.add_argument("--wait-s", type=float, default=10.0, help="how long to wait for pushed values")
    p.set_defaults(handler=run)


async def _probe_one(device: Device, wait_s: float, clock: RealClock) -> tuple[DeviceReport, str | None]:
    """Start and refresh ``device``: its report, taken at once, and the error text if it failed."""
    error = await _refresh(device, wait_s, clock)
    return device.report(), error


async def _refresh(device: Device, wait_s: float, clock: RealClock) -> str | None:
    deadline = clock.monotonic_s() + wait_s
    try:
        async with asyncio.timeout(wait_s + 5.0):
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
    except TimeoutError as e:
        return f"no answer within {wait_s + 5.0:g} s ({e})"
    except DriverError as e:
        return f"{type(e).__name__}: {e}"


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
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
        results = await asyncio.gather(*(_probe_one(d, wait_s, clock) for d in devices.values()))
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
