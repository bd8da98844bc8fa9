"""The ``hems`` command line.

Exit codes (also in the README): 0 ok; 1 runtime failure; 2 usage or configuration error.
Each subcommand lives in its own module exposing ``register(subparsers)``, which adds its parser
and sets ``handler`` to a function taking the parsed arguments and returning the exit code.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import sys
from collections.abc import Sequence

from agent.errors import HemsError

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_USAGE = 2

# The test rig and the benchmarks: installed with hems[hil], absent on a gateway. The commands
# that need them (demo, hil, simulate) import them when they run, never when the CLI starts.
RIG_PACKAGES = frozenset({"hil", "bench"})
RIG_ADVICE = "this command needs the test rig, which is not installed here: pip install 'hems[hil]'"

# Module names under agent.cli; one per subcommand, in the order --help lists them.
COMMANDS: tuple[str, ...] = (
    "cmd_version",
    "cmd_demo",
    "cmd_ledger",
    "cmd_check_config",
    "cmd_probe",
    "cmd_run",
    "cmd_plan",
    "cmd_simulate",
    "cmd_hil",
    "cmd_tariff",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hems",
        description="Transactive home energy agent.",
        epilog="Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"agent.cli.{name}")
        module.register(sub)
    return parser


def _rig_missing(e: ModuleNotFoundError) -> bool:
    """Whether ``e`` is a rig package absent from this install (not a bug inside an installed rig)."""
    root = (e.name or "").partition(".")[0]
    if root not in RIG_PACKAGES:
        return False
    try:
        return importlib.util.find_spec(root) is None
    except (ImportError, ValueError):
        return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        code: int = handler(args)
    except HemsError as e:
        print(f"hems: {e}", file=sys.stderr)
        return EXIT_RUNTIME
    except ModuleNotFoundError as e:
        if not _rig_missing(e):
            raise
        print(f"hems {args.command}: {RIG_ADVICE}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_RUNTIME
    return code


if __name__ == "__main__":
    sys.exit(main())
