"""``hems check-config FILE...``: validate config files and print every problem found."""

from __future__ import annotations

import argparse
from typing import Any

from agent.config import ConfigError, check_files, load_config
from agent.planning.charger import v2g_notes

EXIT_OK = 0
EXIT_CONFIG = 2


def register(sub: Any) -> None:
    p = sub.add_parser(
        "check-config",
        help="validate config files; print 'FILE: ok' or every problem (exit 2 if any)",
        description="Validate hems config files. Prints 'FILE: ok' for a valid file, otherwise one "
        "line per problem as FILE:LINE: KEY.PATH: MESSAGE. Exit 0 if all files are valid, 2 otherwise. "
        "A valid file may get 'FILE: note: KEY.PATH: MESSAGE' lines: settings that are allowed but "
        "cannot take effect (v2g on a charger that cannot discharge).",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="YAML config file(s) to check")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    code = EXIT_OK
    for file in args.files:
        problems = check_files([file])
        if problems:
            code = EXIT_CONFIG
            for problem in problems:
                print(problem)
        else:
            print(f"{file}: ok")
            for path, note in _notes(file).items():
                print(f"{file}: note: {path}: {note}")
    return code


def _notes(file: str) -> dict[str, str]:
    try:
        return v2g_notes(load_config(file))
    except ConfigError:  # valid a moment ago; a file changed in between has no notes
        return {}
