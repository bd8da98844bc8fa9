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
from agent.optimizer.penalties import SOFT_VARIABLES
from agent.optimizer.screened import NotCertified, ScreenedSolve
from agent.optimizer.structure import Numbers, Sense, Structure, Vec

# An inequality row that is unbounded on both sides in some interval (an EV target outside its
# departure interval) gets this far-away finite bound instead, which PIQP treats as an ordinary,
# never active, row instead of warning about it.
FAR = 1.0e4

Index = npt.NDArray[np.int64]

# Smaller solvers kept at once: the re-plans' and one per set of bid intervals (each holds a KKT
# factorisation: a few MB at 24 h @ 5 min).
MAX_SCREENS = 3
# A smaller problem that needs a slack to be feasible is infeasible, which PIQP may take its full
# iteration budget to notice; an ordinary one takes 18-25 iterations, so stop it well before.
SCREEN_MAX_ITER = 50

PRECISE_EPS_ABS = 1e-8
PRECISE_EPS_REL = 1e-9
# Where a solve cannot reach its tolerance within max_iter, it is solved once more to these.
LOOSE_EPS_ABS = 1e-6
LOOSE_EPS_REL = 1e-7


@dataclass(frozen=True)
class PiqpSettings:
    # At 1e-6 a re-plan's objective sat up to 7.6e-5 (relative) above the optimum at 24 h @ 5 min;
    # 1e-8 keeps it within 3e-9 for three or four more of ~20 iterations, which solving without the
    # penalty slacks (``screen``) more than pays for (docs/optimizer.md).
    eps_abs: float = 1e-8
    eps_rel: float = 1e-9
    max_iter: int = 200
    # A re-plan changes prices and forecasts, not the problem's scales: the Ruiz scaling of the
    # first solve stays good and recomputing it costs ~5 % of a solve.
    reuse_preconditioner: bool = True
    # Solve re-plans without the penalty slacks first, certified on the whole problem (about a
    # fifth faster on the synthetic home; see agent/optimizer/screened.py). Off by default: in
    # the running agent the home's own tenders were then never posted in the end-to-end test
    # (the smaller problem's marginal values, which price the bid curves, are exact but not the
    # whole problem's: the duals are not unique); see docs/optimizer.md.
    screen: bool = False
    # Bid-curve probes on the smaller problem too (-27 to -31 % CPU for the curves, quantities
    # within 1.4 W of whole probes). Off: with it the end-to-end agent test failed 3 of 4 runs
    # (a settlement check around the first trades), for a reason not yet found; see
    # docs/optimizer.md.
    screen_probes: bool = False


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
        self._full_a_stale = False  # A's values changed while only the smaller problem was solved
        # The smaller problem handles equalities and boxes only (every row of today's model).
        self._can_screen = settings.screen and self._in_rows.size == 0
        # One smaller problem per set of slack columns kept: () for re-plans, a probed interval's
        # two market variables for each bid-curve interval (the same few intervals every plan).
        self._screens: dict[tuple[int, ...], ScreenedSolve] = {}
        self.screen_fallbacks = 0  # solves the smaller problem could not certify (the bench reports)
        self.loose_solves = 0  # whole-problem solves finished at the looser tolerance

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

    def _screen(self, keep: tuple[int, ...]) -> ScreenedSolve | None:
        if not self._can_screen or (keep and not self.settings.screen_probes):
            return None
        if keep not in self._screens:
            screen = ScreenedSolve(self.s, self._p, self._a_eq, set(SOFT_VARIABLES), keep)
            if not screen.active:
                self._can_screen = False
                return None
            if len(self._screens) >= MAX_SCREENS:  # a caller whose bid intervals keep moving
                del self._screens[next(k for k in self._screens if k)]
            self._screens[keep] = screen
        return self._screens[keep]

    def solve(self, n: Numbers, *, precise: bool = False, keep: tuple[int, ...] = ()) -> RawSolution:
        """Solve; ``precise`` tightens the tolerances to 1e-8 for this solve (bid-curve probes,
        whose quantities become tenders, where 1e-6 kW too much can cross a price step). The
        problem without the penalty slacks is tried first (:mod:`screened`), keeping the slack
        columns ``keep`` (a probe's market variables, which it prices to be used)."""
        t0 = time.perf_counter()
        v = self._vectors(n)
        if self._matrices_changed(n):
            self._full_a_stale = True
        eps = (
            (PRECISE_EPS_ABS, PRECISE_EPS_REL) if precise else (self.settings.eps_abs, self.settings.eps_rel)
        )
        screen = self._screen(keep)
        if screen is not None and screen.trusted:
            try:
                red = screen.solve(
                    v["c"], self._a_eq, v["b"], v["x_l"], v["x_u"], eps=eps,
                    max_iter=min(self.settings.max_iter, SCREEN_MAX_ITER),
                    reuse_preconditioner=self.settings.reuse_preconditioner,
                )  # fmt: skip
            except NotCertified:
                self.screen_fallbacks += 1
                screen.trusted = False
            else:
                return self._raw(red.x, red.y_eq, None, red.z_box, iterations=red.iterations, t0=t0)
        raw = self._solve_full(v, eps, t0)
        if screen is not None and not screen.trusted:
            # Try the smaller problem again once the whole problem's optimum leaves the slacks idle.
            screen.trusted = screen.slacks_idle(raw.x, v["x_l"])
        return raw

    def _solve_full(self, v: dict[str, Vec], eps: tuple[float, float], t0: float) -> RawSolution:
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
            if self._full_a_stale:
                self._solver.update(A=self._a_eq, **v)
            else:
                self._solver.update(**v)
        self._full_a_stale = False
        st = self._solver.settings
        st.eps_abs = st.eps_duality_gap_abs = eps[0]
        st.eps_rel = st.eps_duality_gap_rel = eps[1]
        status = self._solver.solve()
        if status == piqp.PIQP_MAX_ITER_REACHED and eps[0] < LOOSE_EPS_ABS:
            # 1e-8 is now and then out of reach where 1e-6 is not (5 of 338 plans of the summer
            # week's first days failed so): the looser optimum, once the planner's default, beats
            # no plan at all.
            st.eps_abs = st.eps_duality_gap_abs = LOOSE_EPS_ABS
            st.eps_rel = st.eps_duality_gap_rel = LOOSE_EPS_REL
            status = self._solver.solve()
            self.loose_solves += 1
        if status in (piqp.PIQP_PRIMAL_INFEASIBLE, piqp.PIQP_DUAL_INFEASIBLE):
            raise InfeasibleError(f"PIQP: {status} (every bound is soft; this is a modelling bug)")
        if status != piqp.PIQP_SOLVED:
            raise SolverError(f"PIQP: {status}")
        res = self._solver.result
        z_in = np.asarray(res.z_u) - np.asarray(res.z_l) if self._in_rows.size else None
        z_box = np.asarray(res.z_bu) - np.asarray(res.z_bl)
        x = np.array(res.x, dtype=np.float64)
        return self._raw(x, np.asarray(res.y), z_in, z_box, iterations=int(res.info.iter), t0=t0)

    def _raw(
        self, x: Vec, y_eq: Vec, z_in: Vec | None, z_box: Vec, *, iterations: int, t0: float
    ) -> RawSolution:
        y = np.zeros(self.s.m)
        y[self._eq_rows] = y_eq
        if z_in is not None:
            y[self._in_rows] = z_in
        y[self._box_rows] = z_box[self._box_cols]
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise SolverError("PIQP returned numbers that are not finite")
        return RawSolution(x, y, "solved", iterations, (time.perf_counter() - t0) * 1e3)
