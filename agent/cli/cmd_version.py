"""``hems version``: the agent's version and those of the parts it leans on."""

from __future__ import annotations

import argparse
import json
import platform
import sys
from importlib import metadata
from typing import Any

from agent import __version__

_PARTS = ("paho-mqtt", "pymodbus", "cvxpy", "osqp", "aiohttp", "pyyaml", "gpiozero", "pydantic")


def register(sub: Any) -> None:
    p = sub.add_parser("version", help="print the version of hems and its main dependencies")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run)


def _installed(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def run(args: argparse.Namespace) -> int:
    info = {"hems": __version__, "python": platform.python_version()}
    info.update({name: _installed(name) for name in _PARTS})
    if args.json:
        json.dump(info, sys.stdout, indent=2)
        print()
    else:
        print(f"hems {__version__}")
        for key, value in info.items():
            if key != "hems":
                print(f"  {key:<10} {value}")
    return 0
