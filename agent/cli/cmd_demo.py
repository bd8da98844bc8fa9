"""``hems demo``: the embedded default a new user meets.

Until the planner and the rig land this shows what exists: it loads the demo config, builds a
ledger in a temporary state directory, trades and settles a few intervals of a scripted home,
and prints the bill. The rig issue replaces it with the full closed-loop demo.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="run a simulated home on this machine")
    p.add_argument("--port", type=int, default=8080, help="web page port (loopback)")
    p.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from agent.demo_foundation import run_foundation_demo

    return run_foundation_demo()
