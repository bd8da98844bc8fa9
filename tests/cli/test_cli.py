"""The command line frame: help, version, exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agent import __version__
from agent.cli.main import EXIT_USAGE, main


def test_version_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["version", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["hems"] == __version__
    assert info["pymodbus"].startswith("3.11.")
    assert info["paho-mqtt"].startswith("2.")


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == EXIT_USAGE
    assert "COMMAND" in capsys.readouterr().err


def test_unknown_command_exits_2() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == EXIT_USAGE


def test_installed_console_script_runs() -> None:
    exe = shutil.which("hems") or str(Path(sys.executable).parent / "hems")
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60, check=True)
    assert "Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error" in out.stdout
    for command in ("version", "demo"):
        assert command in out.stdout


def test_check_config_notes_v2g_on_a_charger_that_cannot_discharge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Guards V2G planned for a charge-only charger: the owner is told it will not happen.
    text = (Path(__file__).parents[2] / "configs" / "demo.yaml").read_text()
    assert "    v2g: false\n" in text
    v2g = tmp_path / "v2g.yaml"
    v2g.write_text(text.replace("    v2g: false\n", "    v2g: true\n    v2g_max_kw: 5\n", 1))
    plain = tmp_path / "plain.yaml"
    plain.write_text(text)
    assert main(["check-config", str(v2g), str(plain)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{v2g}: ok"
    assert lines[1].startswith(f"{v2g}: note: devices.")
    assert ".v2g: true, but " in lines[1] and "the car is charged, never discharged" in lines[1]
    assert lines[2:] == [f"{plain}: ok"]
