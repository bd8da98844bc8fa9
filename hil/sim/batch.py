"""Running one or several scenarios, each in its own process when there are several.

A :class:`Job` names a scenario (already loaded and adjusted), its mode (``fast``: virtual time,
:mod:`hil.fast`; ``real``: the rig on sockets, :mod:`hil.sim.loop`), where to keep its files,
where to write its report and which of a fast run's forecasts are the truth
(:mod:`hil.fast.oracle`). :func:`run_jobs` runs them (a single job in this process; several on
a pool of ``workers`` processes) and returns one :class:`Outcome` per job, in order: its KPI
object, its checks and its wall time, or the error that stopped it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing as mp
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from hil.errors import HilError
from hil.sim.scenario import Scenario

if TYPE_CHECKING:
    from hil.fast.split import Split

Mode = Literal["fast", "real"]


@dataclass(frozen=True)
class Job:
    scenario: Scenario
    mode: Mode
    keep: Path | None = None
    report: Path | None = None
    broker: str = "auto"
    split: Split | None = None  # a fast run in parts side by side
    oracles: tuple[str, ...] = ()  # a fast run's forecasts given the truth (hil.fast.oracle)


@dataclass(frozen=True)
class Outcome:
    name: str
    mode: Mode
    days: float
    kpis: dict[str, Any] | None
    checks: dict[str, str]
    ok: bool
    wall_s: float
    report: Path | None = None
    error: str | None = None
    notes: tuple[str, ...] = ()  # for the log: how the run was made


def run_job(job: Job) -> Outcome:
    sc = job.scenario
    try:
        with tempfile.TemporaryDirectory(prefix="hems-sim-", dir=scratch_dir()) as tmp:
            directory = job.keep or Path(tmp)
            if job.mode == "fast" and job.split is not None:
                from hil.fast.split import run_split

                result, _ = run_split(sc, directory, job.split)
            elif job.mode == "fast":
                from hil.fast.run import run_fast

                result, _ = run_fast(sc, directory, oracles=job.oracles)
            else:
                from hil.sim.loop import run_simulation

                result = asyncio.run(run_simulation(sc, directory, broker=job.broker))
    except HilError as e:
        return Outcome(sc.name, job.mode, sc.days, None, {}, False, 0.0, error=str(e))
    index = None
    if job.report is not None:
        from hil.report import write_report

        index = write_report(result, job.report)
    notes: tuple[str, ...] = ()
    split = result.world.get("split")
    if split is not None:
        notes = (
            f"split into {len(split['parts'])} parts; the stores held {split['seam_stored_kwh']} kWh more "
            "at the parts' starts than at the ends before them (charged in cost_adjusted)",
        )
    return Outcome(
        sc.name, job.mode, sc.days, result.kpis.to_json(), result.checks, result.ok, result.wall_s, index,
        notes=notes,
    )  # fmt: skip


def scratch_dir() -> str | None:
    """A RAM-backed directory for a run's throw-away files where there is one (the ledger's
    SQLite commits then cost no disk flush); the system's default otherwise."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() else None


def run_jobs(jobs: list[Job], workers: int) -> list[Outcome]:
    if len(jobs) == 1 or workers == 1:
        return [run_job(j) for j in jobs]
    ctx = mp.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        return list(pool.map(run_job, jobs))
