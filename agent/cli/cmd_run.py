"""``hems run``: the agent as a service.

SIGTERM/SIGINT stop it (outputs to their safe state first); SIGHUP re-reads the config: a file
with problems is refused, logged, and the running configuration kept; a good one replaces it
(systemd sees RELOADING, then READY after the first good cycle). ``--speed`` runs on a
simulated clock, faster than real time, for the rig and demos.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.clock import Clock, RealClock, ScaledClock
from agent.config import ConfigError, load_config
from agent.config.model import Config
from agent.runtime.app import ExtraTask, build, serve
from agent.runtime.cycle import DEFAULT_CYCLE_S
from agent.systemd import Notifier

log = logging.getLogger("hems.run")


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="run the agent (the systemd service runs this)", description=__doc__)
    p.add_argument("--config", required=True, metavar="FILE", help="the hems YAML configuration")
    p.add_argument("--speed", type=float, default=None, help="simulated clock: seconds per real second")
    p.add_argument("--start", default=None, help="simulated clock start (ISO 8601 with offset; with --speed)")
    p.add_argument("--cycle-s", type=float, default=DEFAULT_CYCLE_S, help="control cycle period, seconds")
    p.set_defaults(handler=run)


def _clock(args: argparse.Namespace) -> Clock:
    if args.speed is None:
        return RealClock()
    start = datetime.fromisoformat(args.start) if args.start else datetime.now(UTC)
    if start.tzinfo is None:
        raise ValueError("--start needs a UTC offset")
    return ScaledClock(start, speed=args.speed)


def _print_problems(e: ConfigError) -> None:
    for problem in e.problems:
        print(problem, file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    path = Path(args.config)
    try:
        config = load_config(path)
        clock = _clock(args)
    except ConfigError as e:
        _print_problems(e)
        return 2
    except ValueError as e:
        print(f"hems run: {e}", file=sys.stderr)
        return 2
    return asyncio.run(run_agent(path, config, clock, cycle_s=args.cycle_s))


async def run_agent(
    path: Path,
    config: Config,
    clock: Clock,
    *,
    cycle_s: float = DEFAULT_CYCLE_S,
    extra: dict[str, ExtraTask] | None = None,
    stop: asyncio.Event | None = None,
) -> int:
    loop = asyncio.get_running_loop()
    stop = stop or asyncio.Event()
    reload = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGHUP, reload.set)
    notifier = Notifier.from_environment()
    if extra is None:
        extra = _default_extra()
    while True:
        agent = await build(config, clock, cycle_s=cycle_s)
        inner = asyncio.Event()
        serving = asyncio.create_task(serve(agent, inner, notifier=notifier, extra=extra))
        while True:
            waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(reload.wait())]
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            for w in waiters:
                w.cancel()
            if stop.is_set():
                inner.set()
                await serving
                return 0
            reload.clear()
            try:
                new = await asyncio.to_thread(load_config, path)
            except ConfigError as e:
                log.error("reload refused, keeping the running configuration: %d problem(s)", len(e.problems))
                for problem in e.problems:
                    log.error("%s", problem)
                continue
            notifier.reloading("re-reading the configuration")
            inner.set()
            await serving
            config = new
            break


def _default_extra() -> dict[str, ExtraTask]:
    """Tasks beside the cycle: the web server (status page, API, metrics, Home Assistant)."""
    from agent.web import web_task

    return {"web": web_task}
