"""install.sh --dry-run: the steps it would take, and that a second run skips what exists."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "systemd" / "install.sh"


def dry_run(tmp_path: Path, *args: str, exists: bool) -> list[str]:
    # A stub getent answers "exists" or "missing" for every user and group, so both paths of
    # the script run without touching this machine's accounts.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    getent = bin_dir / "getent"
    getent.write_text(f"#!/bin/sh\nexit {0 if exists else 2}\n")
    getent.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "HEMS_PREFIX": str(tmp_path / "opt"),
        "HEMS_ETC": str(tmp_path / "etc"),
        "HEMS_UNIT_DIR": str(tmp_path / "units"),
    }
    out = subprocess.run(
        ["sh", str(SCRIPT), "--dry-run", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def test_fresh_install_steps_in_order(tmp_path: Path) -> None:
    lines = dry_run(tmp_path, exists=False)
    text = "\n".join(lines)
    repo = SCRIPT.parents[1]
    order = [
        "+ groupadd --system gpio",
        "+ groupadd --system dialout",
        "+ useradd --system --user-group",
        "+ usermod --append --groups gpio,dialout hems",
        f"+ install -d -o root -g hems -m 0750 {tmp_path}/etc",
        f"+ install -o root -g hems -m 0640 {repo}/configs/gateway.yaml {tmp_path}/etc/hems.yaml",
        f"+ python3 -m venv {tmp_path}/opt/venv",
        f"+ {tmp_path}/opt/venv/bin/pip install --quiet --upgrade {repo}",
        f"+ {tmp_path}/opt/venv/bin/hems check-config {tmp_path}/etc/hems.yaml",
        f"+ install -o root -g root -m 0644 {SCRIPT.parent}/hems.service {tmp_path}/units/hems.service",
        "+ systemctl daemon-reload",
        "+ systemctl enable --now hems.service",
    ]
    positions = [text.find(step) for step in order]
    assert all(p >= 0 for p in positions), [s for s, p in zip(order, positions, strict=True) if p < 0]
    assert positions == sorted(positions)
    assert not (tmp_path / "etc").exists()  # a dry run changes nothing


def test_second_run_keeps_user_config_and_venv(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "hems.yaml").write_text("site: {}\n")
    python = tmp_path / "opt" / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)
    text = "\n".join(dry_run(tmp_path, "--no-start", exists=True))
    assert "groupadd" not in text
    assert "useradd" not in text
    assert "-m venv" not in text
    assert "hems.yaml exists: kept" in text
    assert "pip install --quiet --upgrade" in text  # upgrades the package every time
    assert "+ systemctl enable hems.service" in text
    assert "--now" not in text


def test_unknown_option_is_a_usage_error() -> None:
    out = subprocess.run(
        ["sh", str(SCRIPT), "--frobnicate"], capture_output=True, text=True, timeout=30, check=False
    )
    assert out.returncode == 2
    assert "unknown option --frobnicate" in out.stderr
