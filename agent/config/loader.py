"""Read a YAML config file into a :class:`Config`, or report every problem in it at once."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml
from pydantic import ValidationError

from agent.config.crossref import cross_check
from agent.config.errors import ConfigError, ConfigProblem
from agent.config.model import Config
from agent.config.problems import display, to_problems
from agent.config.yaml_lines import LoadedYaml, load_yaml


def load_config(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> Config:
    """Load and validate one file; raises :class:`ConfigError` listing every problem.

    ``env`` stands in for the process environment (secrets given as ``{env: NAME}`` and
    ``$STATE_DIRECTORY``); relative paths in the file are relative to the file's directory.
    """
    file = os.fspath(path)
    try:
        text = Path(file).read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError([ConfigProblem(file, None, "", f"cannot read file: {e.strerror or e}")]) from e
    except UnicodeDecodeError as e:
        raise ConfigError([ConfigProblem(file, None, "", f"not UTF-8 text (byte {e.start})")]) from e
    return parse_config(text, file, env=env, base_dir=Path(file).resolve().parent)


def parse_config(
    text: str, file: str = "<config>", env: Mapping[str, str] | None = None, base_dir: Path | None = None
) -> Config:
    """Validate config text; ``file`` is only used to name the source in problems."""
    try:
        doc = load_yaml(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else 1
        what = " ".join(part for part in (e.context, e.problem) if part)
        raise ConfigError([ConfigProblem(file, line, "", f"YAML syntax error: {what}")]) from e
    except yaml.YAMLError as e:
        raise ConfigError([ConfigProblem(file, 1, "", f"YAML error: {e}")]) from e
    if not isinstance(doc.data, dict):
        shape = "empty" if doc.data is None else f"a {type(doc.data).__name__}, not a mapping"
        message = f"the file is {shape}; a config is a mapping with at least 'site' and 'devices'"
        raise ConfigError([ConfigProblem(file, 1, "", message)])
    problems = _duplicates(doc, file)
    context = {"env": os.environ if env is None else env, "base_dir": base_dir or Path.cwd()}
    config: Config | None = None
    try:
        config = Config.model_validate(doc.data, context=context)
    except ValidationError as e:
        problems += to_problems(e.errors(include_url=False), Config, doc, file)
    for path, message in cross_check(doc.data):
        problems.append(ConfigProblem(file, doc.line_of(path), display(path), message))
    unique = sorted(set(problems), key=lambda p: (p.line or 0, p.path, p.message))
    if unique or config is None:
        raise ConfigError(unique)
    return config


def check_files(
    paths: Iterable[str | os.PathLike[str]], env: Mapping[str, str] | None = None
) -> list[ConfigProblem]:
    """Every problem of every file; an empty list means all of them are valid."""
    problems: list[ConfigProblem] = []
    for path in paths:
        try:
            load_config(path, env=env)
        except ConfigError as e:
            problems.extend(e.problems)
    return problems


def _duplicates(doc: LoadedYaml, file: str) -> list[ConfigProblem]:
    # PyYAML keeps the last of two equal keys without a word; a half-edited block then loses
    # settings silently.
    return [
        ConfigProblem(
            file, dup.line, display(dup.path), f"duplicate key (first given on line {dup.first_line})"
        )
        for dup in doc.duplicates
    ]
