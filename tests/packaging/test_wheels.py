"""The agent installs without its rig: the two wheels the repository builds, and what each holds.

``hems`` (pyproject.toml) is what a gateway installs: the agent and the drivers. ``hems-hil``
(hil/pyproject.toml) brings the test rig, the retailer simulator and the benchmarks, through the
``hil`` extra. Both are built here from a copy of the tree (a build writes into its source), then
the agent's wheel is unpacked alone and run with the test environment's third-party packages but
nothing of this repository: ``hil`` and ``bench`` are really absent, not hidden.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("agent", "drivers", "hil", "bench", "configs", "pyproject.toml", "README.md")


def _copy_tree(dest: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "build", "*.egg-info")
    for name in SOURCES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore)
        else:
            shutil.copy2(src, dest / name)
    return dest


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    src = _copy_tree(tmp_path_factory.mktemp("src"))
    out = tmp_path_factory.mktemp("dist")
    cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index"]
    done = subprocess.run(
        [*cmd, "-w", str(out), str(src), str(src / "hil")],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    found = {p.name.split("-")[0]: p for p in out.glob("*.whl")}
    assert set(found) == {"hems", "hems_hil"}, found
    return found


def _names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as z:
        return z.namelist()


def _metadata(wheel: Path) -> list[tuple[str, str]]:
    with zipfile.ZipFile(wheel) as z:
        text = next(z.read(n).decode() for n in z.namelist() if n.endswith(".dist-info/METADATA"))
    return list(Parser().parsestr(text).items())


def test_agent_wheel_holds_the_agent_and_drivers_only(wheels: dict[str, Path]) -> None:
    names = _names(wheels["hems"])
    assert {n.split("/")[0] for n in names} == {"agent", "drivers", "hems-0.1.0.dist-info"}
    # The data the agent reads at run time travels with it.
    for needed in (
        "agent/web/static/index.html",
        "drivers/modbus/maps/eastron_sdm630.yaml",
        "drivers/mqtt/maps/openevse.yaml",
        "agent/cli/main.py",
    ):
        assert needed in names, needed
    entry_points = [n for n in names if n.endswith("entry_points.txt")]
    assert len(entry_points) == 1
    with zipfile.ZipFile(wheels["hems"]) as z:
        assert "hems = agent.cli.main:main" in z.read(entry_points[0]).decode()


def test_rig_wheel_holds_the_rig_and_benchmarks(wheels: dict[str, Path]) -> None:
    names = _names(wheels["hems_hil"])
    assert {n.split("/")[0] for n in names} == {"hil", "bench", "hems_hil-0.1.0.dist-info"}
    for needed in (
        "hil/simulated/factory.py",
        "hil/retailer/sim.py",
        "hil/scenarios/demo.yaml",
        "hil/scenarios/year_de_2015.yaml",
        "bench/optimizer.py",
    ):
        assert needed in names, needed


def test_the_hil_extra_brings_the_rig_and_the_rig_needs_the_agent(wheels: dict[str, Path]) -> None:
    agent_meta = _metadata(wheels["hems"])
    assert ("Provides-Extra", "hil") in agent_meta
    assert ("Requires-Dist", 'hems-hil==0.1.0; extra == "hil"') in agent_meta
    rig_requires = [v for k, v in _metadata(wheels["hems_hil"]) if k == "Requires-Dist"]
    assert rig_requires == ["hems==0.1.0", "looptime<0.10,>=0.9"]


# Runs in an isolated python without site processing: the unpacked agent wheel and the third-party
# packages, but not the editable installs that would map hil/ and bench/ from this repository.
_PROBE = """
import importlib, pkgutil, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import agent, drivers
for pkg in (agent, drivers):
    for mod in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        importlib.import_module(mod.name)
for rig in ("hil", "bench"):
    try:
        importlib.import_module(rig)
    except ModuleNotFoundError:
        print(rig, "absent")
print("loaded", sorted(n for n in sys.modules if n.split(".")[0] in ("hil", "bench")))
if sys.argv[3] == "build-simulated":
    from drivers.errors import DriverConfigError
    from drivers.registry import default_registry

    try:
        default_registry().factory("simulated")
    except DriverConfigError as e:
        print("refused", e.field, e)
        sys.exit(0)
    sys.exit(1)
from agent.cli.main import main
sys.exit(main(sys.argv[3:]))
"""


def _run_agent_alone(tmp_path: Path, wheel: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    unpacked = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(unpacked)
    site_packages = sysconfig.get_paths()["purelib"]
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", _PROBE, str(unpacked), site_packages, *argv],
        capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
    )  # fmt: skip


def test_agent_alone_imports_every_module_and_checks_the_gateway_config(
    tmp_path: Path, wheels: dict[str, Path]
) -> None:
    # configs/gateway.yaml is what systemd/install.sh installs on a gateway by default.
    config = REPO / "configs" / "gateway.yaml"
    out = _run_agent_alone(tmp_path, wheels["hems"], "check-config", str(config))
    assert out.stdout.splitlines()[:3] == ["hil absent", "bench absent", "loaded []"], out.stderr
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"{config}: ok" in out.stdout


def test_agent_alone_refuses_the_simulated_driver_naming_the_field(
    tmp_path: Path, wheels: dict[str, Path]
) -> None:
    out = _run_agent_alone(tmp_path, wheels["hems"], "check-config", str(REPO / "configs" / "minimal.yaml"))
    assert out.returncode == 2, out.stdout + out.stderr
    problems = [line for line in out.stdout.splitlines() if "devices.grid.driver.type" in line]
    assert len(problems) == 1, out.stdout
    assert "pip install 'hems[hil]'" in problems[0]


def test_agent_alone_registry_refuses_to_build_a_simulated_device(
    tmp_path: Path, wheels: dict[str, Path]
) -> None:
    out = _run_agent_alone(tmp_path, wheels["hems"], "build-simulated")
    assert out.returncode == 0, out.stdout + out.stderr
    refused = out.stdout.splitlines()[-1]
    assert refused.startswith("refused driver.type driver.type: the simulated driver is part of hems[hil]")
    assert refused.endswith("pip install 'hems[hil]'")


@pytest.mark.parametrize(
    "argv",
    [
        ("demo", "--duration-s", "1"),
        ("simulate", "--scenario", "smoke.yaml"),
        ("hil", "--scenario", "smoke.yaml"),
    ],
    ids=lambda a: a[0],
)
def test_agent_alone_rig_commands_exit_2_with_the_install_advice(
    tmp_path: Path, wheels: dict[str, Path], argv: tuple[str, ...]
) -> None:
    out = _run_agent_alone(tmp_path, wheels["hems"], *argv)
    assert out.returncode == 2, out.stdout + out.stderr
    assert f"hems {argv[0]}: " in out.stderr
    assert "pip install 'hems[hil]'" in out.stderr
    assert "Traceback" not in out.stderr
