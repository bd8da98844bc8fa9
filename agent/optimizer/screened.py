"""Re-plans on the smaller problem without the penalty slacks, certified on the whole problem.

Every soft bound and the unmatched-energy fallback is a non-negative slack priced far above any
energy price (:mod:`agent.optimizer.penalties`); in an ordinary re-plan the optimum leaves all of
them at zero. They are over a third of the variables, and an interior-point iteration costs in
proportion to the problem's size, so a re-plan first solves the problem with those slacks fixed
at their lower bound (removed from the QP) and then checks, exactly, that the answer is optimal
for the whole problem: a fixed variable at its lower bound is optimal iff its reduced cost
``c + P x + A'y`` (with the smaller problem's duals) is >= 0, which with the smaller problem's own
KKT conditions makes the whole problem's KKT conditions hold. Where one is negative (a state that
starts outside its band, a ladder that runs out, a fuse the base load exceeds) the caller solves
the whole problem instead, so the plan is the same either way (to the solver's tolerance).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import piqp
import scipy.sparse as sp

from agent.optimizer.errors import OptimizerError
from agent.optimizer.structure import Structure, Vec

Index = npt.NDArray[np.int64]
# A slack this close to its lower bound (kW, kWh or K) counts as unused.
IDLE_TOL = 1e-6


class NotCertified(OptimizerError):
    """The smaller problem's optimum is not optimal for the whole problem (solve that instead)."""


@dataclass(frozen=True)
class Reduced:
    x: Vec  # the whole problem's primal (dropped slacks at their lower bound)
    y_eq: Vec  # duals of the equality rows (PIQP's sign)
    z_box: Vec  # z_bu - z_bl per variable, the dropped ones' from their reduced cost
    iterations: int


def column_map(a: sp.csc_matrix, cols: Index) -> tuple[sp.csc_matrix, Index]:
    """``a[:, cols]`` and, for each of its stored entries, where it sits in ``a.data``."""
    ids = a.copy()
    ids.data = np.arange(a.nnz, dtype=np.float64) + 1.0
    part = a[:, cols].tocsc()
    return part, ids[:, cols].tocsc().data.astype(np.int64) - 1


class ScreenedSolve:
    """A second PIQP solver on the columns of ``structure`` outside ``soft`` (equalities + boxes);
    ``also_keep`` keeps single columns of those blocks (a bid-curve probe's market variables)."""

    def __init__(
        self, structure: Structure, p_upper: sp.csc_matrix, a_eq: sp.csc_matrix, soft: set[str],
        also_keep: tuple[int, ...] = (),
    ) -> None:  # fmt: skip
        keep = np.ones(structure.n, dtype=bool)
        for name in soft & set(structure.var_names):
            keep[structure.vslice(name)] = False
        keep[list(also_keep)] = True
        self.keep = keep
        self.kept: Index = np.flatnonzero(keep)
        self.dropped: Index = np.flatnonzero(~keep)
        self._p_diag = p_upper.diagonal()
        self._p = sp.triu(p_upper[self.kept][:, self.kept]).tocsc()
        self._a, self._a_map = column_map(a_eq, self.kept)
        self._a_drop, self._drop_map = column_map(a_eq, self.dropped)
        self._solver: piqp.SparseSolver | None = None
        # False after a solve could not be certified (a state outside its band, no ladder, ...):
        # the caller then solves the whole problem until its optimum leaves the slacks idle again,
        # instead of paying for a failed smaller solve on every re-plan of a lasting condition.
        self.trusted = True

    def slacks_idle(self, x: Vec, x_l: Vec) -> bool:
        """Whether every dropped slack sits on its lower bound in the whole problem's ``x``."""
        return bool(np.all(x[self.dropped] - x_l[self.dropped] <= IDLE_TOL))

    @property
    def active(self) -> bool:
        return self.dropped.size > 0

    def solve(
        self, c: Vec, a_eq: sp.csc_matrix, b: Vec, x_l: Vec, x_u: Vec, *,
        eps: tuple[float, float], max_iter: int, reuse_preconditioner: bool,
    ) -> Reduced:  # fmt: skip
        """Solve without the dropped columns; raise :class:`NotCertified` unless the answer is
        optimal for the whole problem (``a_eq`` carries this re-plan's values)."""
        fixed = x_l[self.dropped]
        if not np.all(np.isfinite(fixed)):
            raise NotCertified("a penalty slack has no finite lower bound to rest on")
        self._a.data = a_eq.data[self._a_map]
        self._a_drop.data = a_eq.data[self._drop_map]
        b_k = b - self._a_drop @ fixed
        c_k, l_k, u_k = c[self.kept], x_l[self.kept], x_u[self.kept]
        if self._solver is None:
            solver = piqp.SparseSolver()
            solver.settings.max_iter = max_iter
            solver.settings.preconditioner_reuse_on_update = reuse_preconditioner
            solver.settings.kkt_solver = piqp.KKTSolver.sparse_ldlt
            solver.setup(self._p, c_k, self._a, b_k, None, None, None, l_k, u_k)
            self._solver = solver
        else:
            self._solver.update(c=c_k, A=self._a, b=b_k, x_l=l_k, x_u=u_k)
        st = self._solver.settings
        st.eps_abs = st.eps_duality_gap_abs = eps[0]
        st.eps_rel = st.eps_duality_gap_rel = eps[1]
        status = self._solver.solve()
        if status != piqp.PIQP_SOLVED:
            raise NotCertified(f"the smaller problem ended {status}")
        res = self._solver.result
        y = np.asarray(res.y, dtype=np.float64)
        # PIQP's stationarity: P x + c + A'y + (z_bu - z_bl) = 0, so at its lower bound a variable
        # has z_bl = P x + c + A'y, which must be >= 0 (up to the solver's own dual tolerance).
        reduced = c[self.dropped] + self._p_diag[self.dropped] * fixed + self._a_drop.T @ y
        pinned = x_u[self.dropped] <= fixed  # l == u: fixed by its bounds, any reduced cost is fine
        if np.any((reduced < -eps[0]) & ~pinned):
            raise NotCertified("a penalty slack would be used")
        x = np.empty(self.keep.size)
        x[self.kept] = res.x
        x[self.dropped] = fixed
        z = np.empty(self.keep.size)
        z[self.kept] = np.asarray(res.z_bu) - np.asarray(res.z_bl)
        z[self.dropped] = -reduced
        return Reduced(x, y, z, int(res.info.iter))
