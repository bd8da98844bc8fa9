"""The hot path: the declared QP handed straight to PIQP (a proximal interior-point solver).

Why not OSQP (ADMM)? On this problem, long storage chains with mostly linear costs, OSQP needs
thousands of iterations (hundreds of ms) to reach the 0.05 % objective gap even warm-started from
the shifted previous solution, and its polishing fails on the degenerate LP parts (measurements
in docs/optimizer.md). An interior-point method reaches 1e-6 in about 20 iterations of one sparse
LDL' factorisation each: ~15 ms for a day at 5-minute steps. Interior-point methods gain little
from a warm start, so each re-plan starts fresh; the structure, PIQP's symbolic factorisation and
its scaling are reused, and a re-plan only updates vectors (and A's values when a COP changes).

Rows are split the way PIQP wants them: ``bound:*`` rows become the box ``x_l <= x <= x_u``,
equality rows ``A x = b``, the rest ``h_l <= G x <= h_u``. Duals are returned in the OSQP
convention of :class:`RawSolution` (y > 0 where an upper bound binds).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import piqp
import scipy.sparse as sp

from agent.optimizer.errors import InfeasibleError, SolverError
from agent.optimizer.osqp_backend import RawSolution
from agent.optimizer.structure import Numbers, Sense, Structure, Vec

# An inequality row that is unbounded on both sides in some interval (an EV target outside its
# departure interval) gets this far-away finite bound instead, which PIQP treats as an ordinary,
# never active, row instead of warning about it.
FAR = 1.0e4

Index = npt.NDArray[np.int64]

PRECISE_EPS_ABS = 1e-8
PRECISE_EPS_REL = 1e-9


@dataclass(frozen=True)
class PiqpSettings:
    # 1e-6 keeps the objective within ~1e-6 of Clarabel at 1e-8 (target 5e-4) and saves one or two
    # of ~20 iterations over 1e-8; see docs/optimizer.md for the measurements.
    eps_abs: float = 1e-6
    eps_rel: float = 1e-7
    max_iter: int = 200
    # A re-plan changes prices and forecasts, not the problem's scales: the Ruiz scaling of the
    # first solve stays good and recomputing it costs ~5 % of a solve.
    reuse_preconditioner: bool = True


class PiqpBackend:
    def __init__(self, structure: Structure, settings: PiqpSettings) -> None:
        self.s = s = structure
        self.settings = settings
        p_mat, a_full, self._positions = s.matrices()
        self._p = sp.triu(p_mat).tocsc()
        box_rows, box_cols, eq_rows, in_rows = [], [], [], []
        for r in s.rows:
            idx = np.arange(s.rslice(r.name).start, s.rslice(r.name).stop)
            if r.name.startswith("bound:"):
                box_rows.append(idx)
                box_cols.append(np.arange(s.vslice(r.name[6:]).start, s.vslice(r.name[6:]).stop))
            elif r.sense == Sense.EQ:
                eq_rows.append(idx)
            else:
                in_rows.append(idx)

        def cat(parts: list[Index]) -> Index:
            return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

        self._box_rows, self._box_cols = cat(box_rows), cat(box_cols)
        self._eq_rows, self._in_rows = cat(eq_rows), cat(in_rows)
        # Where each entry of the split matrices sits in the full A's data (to update COP values).
        ids = a_full.copy()
        ids.data = np.arange(1, ids.nnz + 1, dtype=np.float64)
        self._a_eq, self._eq_map = self._rows(a_full, ids, self._eq_rows)
        self._g, self._g_map = self._rows(a_full, ids, self._in_rows)
        self._a_data = a_full.data.copy()
        self._solver: piqp.SparseSolver | None = None

    @staticmethod
    def _rows(full: sp.csc_matrix, ids: sp.csc_matrix, rows: Index) -> tuple[sp.csc_matrix, Index]:
        part = full[rows].tocsc()
        part.sort_indices()
        id_part = ids[rows].tocsc()
        id_part.sort_indices()
        return part, id_part.data.astype(np.int64) - 1

    def _vectors(self, n: Numbers) -> dict[str, Vec]:
        x_l = np.full(self.s.n, -np.inf)
        x_u = np.full(self.s.n, np.inf)
        x_l[self._box_cols] = n.lo[self._box_rows]
        x_u[self._box_cols] = n.hi[self._box_rows]
        h_l = n.lo[self._in_rows].copy()
        h_u = n.hi[self._in_rows].copy()
        both = ~np.isfinite(h_l) & ~np.isfinite(h_u)
        h_l[both] = -FAR
        return {"c": n.q, "b": n.lo[self._eq_rows], "h_l": h_l, "h_u": h_u, "x_l": x_l, "x_u": x_u}

    def _matrices_changed(self, n: Numbers) -> bool:
        vals, idx = n.a_values(self._positions)
        if vals.size == 0 or np.array_equal(self._a_data[idx], vals):
            return False
        self._a_data[idx] = vals
        self._a_eq.data = self._a_data[self._eq_map]
        self._g.data = self._a_data[self._g_map]
        return True

    def solve(self, n: Numbers, *, precise: bool = False) -> RawSolution:
        """Solve; ``precise`` tightens the tolerances to 1e-8 for this solve (bid-curve probes,
        whose quantities become tenders, where 1e-6 kW too much can cross a price step)."""
        t0 = time.perf_counter()
        v = self._vectors(n)
        changed = self._matrices_changed(n)
        if self._solver is None:
            solver = piqp.SparseSolver()
            solver.settings.max_iter = self.settings.max_iter
            solver.settings.preconditioner_reuse_on_update = self.settings.reuse_preconditioner
            solver.settings.kkt_solver = piqp.KKTSolver.sparse_ldlt
            has_g = self._in_rows.size > 0
            solver.setup(
                self._p, v["c"], self._a_eq, v["b"],
                self._g if has_g else None, v["h_l"] if has_g else None, v["h_u"] if has_g else None,
                v["x_l"], v["x_u"],
            )  # fmt: skip
            self._solver = solver
        else:
            if self._in_rows.size == 0:
                del v["h_l"], v["h_u"]
            if changed:
                self._solver.update(A=self._a_eq, **v)
            else:
                self._solver.update(**v)
        eps = (
            (PRECISE_EPS_ABS, PRECISE_EPS_REL) if precise else (self.settings.eps_abs, self.settings.eps_rel)
        )
        st = self._solver.settings
        st.eps_abs = st.eps_duality_gap_abs = eps[0]
        st.eps_rel = st.eps_duality_gap_rel = eps[1]
        status = self._solver.solve()
        if status in (piqp.PIQP_PRIMAL_INFEASIBLE, piqp.PIQP_DUAL_INFEASIBLE):
            raise InfeasibleError(f"PIQP: {status} (every bound is soft; this is a modelling bug)")
        if status != piqp.PIQP_SOLVED:
            raise SolverError(f"PIQP: {status}")
        res = self._solver.result
        x = np.array(res.x, dtype=np.float64)
        y = np.zeros(self.s.m)
        y[self._eq_rows] = res.y
        if self._in_rows.size:
            y[self._in_rows] = np.asarray(res.z_u) - np.asarray(res.z_l)
        y[self._box_rows] = np.asarray(res.z_bu)[self._box_cols] - np.asarray(res.z_bl)[self._box_cols]
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise SolverError("PIQP returned numbers that are not finite")
        return RawSolution(x, y, "solved", int(res.info.iter), (time.perf_counter() - t0) * 1e3)
