"""The QP's structure, declared once by the device terms; the numbers are filled per re-plan.

The problem is::

    minimise    1/2 x'Px + q'x
    subject to  l <= A x <= u

Every variable and every constraint comes in a *block* of one entry per interval (``T`` of them),
stored block-major (``x[block * T + t]``), so shifting a solution by ``k`` intervals for a warm
start is a roll of each block. A constraint row block is a sum of terms ``coef[t] * var[t - lag]``
with ``lag`` 0 or 1 (the state at the end of the previous interval; the ``t = 0`` entry of a
lagged term is the initial state and goes to the bounds). P is diagonal and fixed, so the sparsity
pattern of P and A never changes: a re-plan updates only q, l, u and the few coefficients declared
``dynamic`` (a heat pump's COP follows the outdoor temperature forecast).

Both solver back ends read this one declaration: :mod:`agent.optimizer.osqp_backend` hands the
matrices straight to OSQP, :mod:`agent.optimizer.reference` writes the same rows as a cvxpy
problem with Parameters (DPP) for Clarabel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

Vec = npt.NDArray[np.float64]


class Sense(StrEnum):
    EQ = "eq"  # l == u
    GE = "ge"  # u == +inf
    LE = "le"  # l == -inf
    RANGE = "range"  # both finite (variable bounds)


@dataclass(frozen=True)
class Term:
    var: str
    coef: Vec  # static value per interval (dynamic terms: the initial value)
    lag: int = 0
    dynamic: bool = False


@dataclass
class RowBlock:
    name: str
    index: int
    sense: Sense
    terms: list[Term]
    tol: float  # plan-check tolerance on this row, in the row's own unit


@dataclass
class Structure:
    """Variable and row blocks of a problem with ``horizon`` intervals."""

    horizon: int
    var_names: list[str] = field(default_factory=list)
    rows: list[RowBlock] = field(default_factory=list)
    quad: dict[str, Vec] = field(default_factory=dict)

    def var(self, name: str, *, bounded: bool = True) -> None:
        """Add a variable block; ``bounded`` gives it a row block ``bound:<name>`` (l <= x <= u)."""
        if name in self.var_names:
            raise ValueError(f"duplicate variable block {name!r}")
        self.var_names.append(name)
        if bounded:
            self.row(f"bound:{name}", Sense.RANGE, [Term(name, self.ones())], tol=1e-3)

    def row(self, name: str, sense: Sense, terms: list[Term], *, tol: float = 1e-3) -> None:
        if any(r.name == name for r in self.rows):
            raise ValueError(f"duplicate row block {name!r}")
        for term in terms:
            if term.var not in self.var_names:
                raise ValueError(f"row {name!r} uses undeclared variable {term.var!r}")
        self.rows.append(RowBlock(name, len(self.rows), sense, terms, tol))

    def quadratic(self, var: str, weight: Vec) -> None:
        """Add ``sum_t weight[t] * var[t]**2`` to the objective (weight >= 0)."""
        self.quad[var] = self.quad.get(var, np.zeros(self.horizon)) + weight

    def ones(self) -> Vec:
        return np.ones(self.horizon)

    def full(self, value: float) -> Vec:
        return np.full(self.horizon, value, dtype=np.float64)

    # -- indexing ---------------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return len(self.var_names) * self.horizon

    @property
    def m(self) -> int:
        return len(self.rows) * self.horizon

    def vslice(self, var: str) -> slice:
        i = self.var_names.index(var)
        return slice(i * self.horizon, (i + 1) * self.horizon)

    def rslice(self, row: str) -> slice:
        for r in self.rows:
            if r.name == row:
                return slice(r.index * self.horizon, (r.index + 1) * self.horizon)
        raise KeyError(row)

    def row_block(self, row: str) -> RowBlock:
        for r in self.rows:
            if r.name == row:
                return r
        raise KeyError(row)

    # -- matrices ---------------------------------------------------------------------------------
    def matrices(self) -> tuple[sp.csc_matrix, sp.csc_matrix, dict[tuple[str, int], npt.NDArray[np.int64]]]:
        """P (upper triangle, diagonal), A, and for each dynamic term the positions in ``A.data``."""
        t_count = self.horizon
        p_diag = np.zeros(self.n)
        for var, weight in self.quad.items():
            p_diag[self.vslice(var)] += 2.0 * weight
        p_mat = sp.diags(p_diag, format="csc")
        rows_i: list[npt.NDArray[np.int64]] = []
        cols_i: list[npt.NDArray[np.int64]] = []
        vals: list[Vec] = []
        ids: list[npt.NDArray[np.int64]] = []
        tags: dict[tuple[str, int], tuple[int, int]] = {}
        next_id = 1
        for r in self.rows:
            for k, term in enumerate(r.terms):
                t = np.arange(term.lag, t_count)
                rows_i.append(r.index * t_count + t)
                cols_i.append(self.vslice(term.var).start + t - term.lag)
                vals.append(term.coef[term.lag :])
                ids.append(np.arange(next_id, next_id + t.size))
                if term.dynamic:
                    tags[(r.name, k)] = (next_id, t.size)
                next_id += t.size
        row_arr = np.concatenate(rows_i)
        col_arr = np.concatenate(cols_i)
        # Build the pattern from entry ids (never zero, never summed) to learn where each entry lands.
        id_mat = sp.csc_matrix(
            (np.concatenate(ids).astype(np.float64), (row_arr, col_arr)), shape=(self.m, self.n)
        )
        id_mat.sort_indices()
        order = id_mat.data.astype(np.int64) - 1
        if np.unique(order).size != order.size:
            raise ValueError("duplicate (row, column) entries in the constraint matrix")
        a_mat = id_mat.copy()
        a_mat.data = np.concatenate(vals)[order]
        where = np.empty(order.size, dtype=np.int64)
        where[order] = np.arange(order.size)
        positions = {key: where[start - 1 : start - 1 + size] for key, (start, size) in tags.items()}
        return p_mat, a_mat, positions


@dataclass
class Numbers:
    """The per-re-plan numbers: q, l, u and the values of the dynamic coefficients."""

    structure: Structure
    q: Vec
    lo: Vec
    hi: Vec
    coef: dict[tuple[str, int], Vec]

    @classmethod
    def blank(cls, s: Structure) -> Numbers:
        lo = np.full(s.m, -np.inf)
        hi = np.full(s.m, np.inf)
        coef = {
            (r.name, k): term.coef.copy() for r in s.rows for k, term in enumerate(r.terms) if term.dynamic
        }
        return cls(s, np.zeros(s.n), lo, hi, coef)

    def cost(self, var: str, per_unit: Vec | float) -> None:
        """Add a linear cost ``per_unit[t] * var[t]``."""
        self.q[self.structure.vslice(var)] += per_unit

    def bounds(self, var: str, lo: Vec | float, hi: Vec | float) -> None:
        sl = self.structure.rslice(f"bound:{var}")
        self.lo[sl] = lo
        self.hi[sl] = hi

    def rhs(self, row: str, lo: Vec | float, hi: Vec | float | None = None) -> None:
        """Set a row's bounds; for an equality give ``lo`` only."""
        sl = self.structure.rslice(row)
        self.lo[sl] = lo
        self.hi[sl] = lo if hi is None else hi

    def dynamic(self, row: str, var: str, values: Vec) -> None:
        block = self.structure.row_block(row)
        for k, term in enumerate(block.terms):
            if term.var == var and term.dynamic:
                self.coef[(row, k)] = np.asarray(values, dtype=np.float64)
                return
        raise KeyError(f"{row}/{var} is not a dynamic term")

    def a_values(
        self, positions: dict[tuple[str, int], npt.NDArray[np.int64]]
    ) -> tuple[Vec, npt.NDArray[np.int64]]:
        """New values and their indices in ``A.data`` for every dynamic coefficient."""
        vals = []
        idx = []
        for key, pos in positions.items():
            term = self.structure.row_block(key[0]).terms[key[1]]
            vals.append(self.coef[key][term.lag :])
            idx.append(pos)
        if not vals:
            return np.zeros(0), np.zeros(0, dtype=np.int64)
        return np.concatenate(vals), np.concatenate(idx)
