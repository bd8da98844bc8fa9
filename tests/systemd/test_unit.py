"""The unit file: systemd's own tools judge it, and what it forbids does not break the agent."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

UNIT = Path(__file__).resolve().parents[2] / "systemd" / "hems.service"
ANALYZE = "/usr/bin/systemd-analyze"
EXEC = "/opt/hems/venv/bin/hems"


def security_score(unit: Path) -> float:
    out = subprocess.run(
        [ANALYZE, "security", "--offline=yes", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out.stdout + out.stderr)
    assert match, out.stdout + out.stderr
    return float(match.group(1))


def test_security_exposure_at_most_2() -> None:
    assert security_score(UNIT) <= 2.0


def test_security_score_notices_weakening(tmp_path: Path) -> None:
    # The score parser must see a real difference: without hardening the unit scores badly.
    weak = tmp_path / "hems.service"
    weak.write_text(
        "\n".join(
            line
            for line in UNIT.read_text().splitlines()
            if not line.startswith(("Protect", "Private", "Restrict", "SystemCall", "Capability", "NoNew"))
        )
    )
    assert security_score(weak) > 5.0


def verify(unit_text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # verify checks that ExecStart exists: point it at a stub so the test needs nothing in /opt.
    stub = tmp_path / "hems"
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    unit = tmp_path / "hems.service"
    unit.write_text(unit_text.replace(EXEC, str(stub)))
    return subprocess.run(
        [ANALYZE, "verify", "--man=no", "--generators=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_systemd_analyze_verify_is_clean(tmp_path: Path) -> None:
    text = UNIT.read_text()
    assert EXEC in text
    out = verify(text, tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout + out.stderr == ""


def test_verify_would_report_a_misspelt_key(tmp_path: Path) -> None:
    out = verify(UNIT.read_text().replace("ProtectHome=", "ProtectHomee="), tmp_path)
    assert "Unknown key 'ProtectHomee'" in out.stderr


def test_runtime_contract_directives() -> None:
    keys = [
        line.split("=", 1)
        for line in UNIT.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    ]
    d: dict[str, list[str]] = {}
    for k, v in keys:
        d.setdefault(k, []).append(v)
    assert d["Type"] == ["notify"]
    assert d["NotifyAccess"] == ["main"]
    assert d["ExecStart"] == [f"{EXEC} run --config /etc/hems/hems.yaml"]
    assert d["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert d["User"] == ["hems"]
    assert d["DynamicUser"] == ["no"]
    assert d["StateDirectory"] == ["hems"]
    assert d["ConfigurationDirectory"] == ["hems"]
    assert "WatchdogSec" in d
    assert d["MemoryDenyWriteExecute"] == ["yes"]
    # devices: GPIO chips and serial ports only
    assert all(
        v.split()[0] in {"char-gpiochip", "char-ttyUSB", "char-ttyACM", "char-ttyAMA", "char-ttyS"}
        for v in d["DeviceAllow"]
    )
    assert d["DevicePolicy"] == ["closed"]


MDWE_PROBE = r"""
import ctypes, mmap, sys
PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
    sys.exit(f"prctl(PR_SET_MDWE) failed: errno {ctypes.get_errno()}")
try:  # the rule is in force: writable+executable memory is refused
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    sys.exit("W+X mapping was allowed: MDWE not active")
except PermissionError:
    pass
import numpy as np, scipy.sparse, cvxpy as cp
x = cp.Variable(3)
p = cp.Parameter(3, value=np.array([1.0, -2.0, 0.5]))
prob = cp.Problem(cp.Minimize(cp.sum_squares(x - p) + cp.sum(x)), [x >= -1, x <= 1])
for solver in ("OSQP", "CLARABEL"):
    prob.solve(solver=solver)
    assert prob.status == "optimal", (solver, prob.status)
print("ok", round(float(prob.value), 3))
"""


def test_solver_stack_runs_under_memory_deny_write_execute() -> None:
    # MemoryDenyWriteExecute= breaks anything that JIT-compiles. The kernel's own MDWE rule
    # (PR_SET_MDWE, what systemd uses where available) is applied in a child before the
    # numerical stack is imported, then a QP is solved with the solvers the planner uses.
    out = subprocess.run(
        [sys.executable, "-c", MDWE_PROBE], capture_output=True, text=True, timeout=300, check=False
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("ok")
