"""The optional OSQP back end: the QP handed straight to OSQP, set up once, updated, warm-started.

Not the default: on this problem OSQP needs thousands of iterations for the accuracy the plan
needs (docs/optimizer.md has the measurements); ``Planner(backend="osqp")`` selects it.

cvxpy's canonicalisation costs more than the solve itself for a day at 5-minute steps, so the
matrices come from :class:`~agent.optimizer.structure.Structure` with a fixed sparsity pattern:
a re-plan updates q, l, u (and the dynamic coefficients of A, which costs a refactorisation),
and starts from the previous solution shifted by the elapsed intervals.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
import osqp

from agent.optimizer.errors import InfeasibleError, SolverError
from agent.optimizer.structure import Numbers, Structure, Vec


@dataclass(frozen=True)
class OsqpSettings:
    eps_abs: float = 1e-6
    eps_rel: float = 1e-6
    max_iter: int = 20000
    polishing: bool = True
    polish_refine_iter: int = 5
    check_termination: int = 10
    # Polishing usually lands on the exact active set; a first solve without a warm start needs
    # more iterations, which max_iter allows for.


@dataclass(frozen=True)
class RawSolution:
    x: Vec
    y: Vec  # duals, OSQP convention: 1/2 x'Px + q'x + y'(Ax) stationary; y > 0 at an upper bound
    status: str
    iterations: int
    solve_ms: float


def shift_blocks(v: Vec, blocks: int, horizon: int, k: int) -> Vec:
    """Move each per-interval block ``k`` intervals earlier, repeating the last value at the end."""
    if k <= 0:
        return v.copy()
    m = v.reshape(blocks, horizon)
    k = min(k, horizon)
    tail = np.repeat(m[:, -1:], k, axis=1)
    return np.concatenate([m[:, k:], tail], axis=1).ravel()


class OsqpBackend:
    def __init__(self, structure: Structure, settings: OsqpSettings) -> None:
        self.s = structure
        self.settings = settings
        self._solver: osqp.OSQP | None = None
        self._positions: dict[tuple[str, int], np.ndarray] = {}
        self._a_values: Vec = np.zeros(0)

    def _setup(self, n: Numbers) -> None:
        p_mat, a_mat, self._positions = self.s.matrices()
        vals, idx = n.a_values(self._positions)
        a_mat.data[idx] = vals
        self._a_values = vals
        solver = osqp.OSQP()
        st = self.settings
        solver.setup(
            p_mat, n.q, a_mat, n.lo, n.hi,
            verbose=False, eps_abs=st.eps_abs, eps_rel=st.eps_rel, max_iter=st.max_iter,
            polishing=st.polishing, polish_refine_iter=st.polish_refine_iter,
            check_termination=st.check_termination, warm_starting=True,
        )  # fmt: skip
        self._solver = solver

    def solve(self, n: Numbers, warm: tuple[Vec, Vec] | None) -> RawSolution:
        t0 = time.perf_counter()
        if self._solver is None:
            self._setup(n)
        else:
            self._solver.update(q=n.q, l=n.lo, u=n.hi)
            vals, idx = n.a_values(self._positions)
            if vals.size and not np.array_equal(vals, self._a_values):
                self._solver.update(Ax=vals, Ax_idx=idx)
                self._a_values = vals
        solver = self._solver
        assert solver is not None
        if warm is not None:
            solver.warm_start(x=warm[0], y=warm[1])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            res = solver.solve(raise_error=False)
        status = str(res.info.status)
        if "infeasible" in status:
            raise InfeasibleError(f"OSQP: {status} (every bound is soft; this is a modelling bug)")
        if status != "solved":
            raise SolverError(f"OSQP: {status} after {res.info.iter} iterations")
        x = np.array(res.x, dtype=np.float64)
        y = np.array(res.y, dtype=np.float64)
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise SolverError("OSQP returned numbers that are not finite")
        return RawSolution(x, y, status, int(res.info.iter), (time.perf_counter() - t0) * 1e3)
