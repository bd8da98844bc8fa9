"""Shared helpers for config tests: write YAML to a temp file and run the real CLI on it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from agent.cli.main import main

CONFIGS_DIR = Path(__file__).resolve().parents[2] / "configs"


@pytest.fixture
def write_yaml(tmp_path: Path) -> Callable[[str, str], Path]:
    def write(text: str, name: str = "hems.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def check_config(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str]]:
    """Run ``hems check-config`` in-process; returns (exit code, stdout + stderr)."""

    def run(*files: Path | str) -> tuple[int, str]:
        code = main(["check-config", *map(str, files)])
        out = capsys.readouterr()
        return code, out.out + out.err

    return run
