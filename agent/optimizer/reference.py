"""The reference: the same declared rows written as a cvxpy problem with Parameters (DPP).

Built once; a solve only assigns parameter values, so cvxpy's DPP cache skips re-canonicalising.
Solved with Clarabel (interior point) at tight tolerances, it is the yardstick for the OSQP hot
path in the tests and in ``bench/optimizer.py``. Infinite bounds become ``penalties.BIG``.
"""

from __future__ import annotations

import time
from typing import Any

import cvxpy as _cvxpy
import numpy as np
import scipy.sparse as sp

from agent.optimizer import penalties
from agent.optimizer.errors import InfeasibleError, SolverError
from agent.optimizer.osqp_backend import RawSolution
from agent.optimizer.structure import Numbers, Sense, Structure

# Tighter than the planner's 1e-8, or the yardstick's own error shows in the gap: at 1e-8 it was off by
# 1.6e-6 (relative) on a re-plan the planner and Clarabel at 1e-10 agree on to 2e-9.
TOL = 1e-10
# cvxpy's atoms are re-exported dynamically, which mypy cannot follow.
cp: Any = _cvxpy


class ReferenceBackend:
    def __init__(self, structure: Structure) -> None:
        self.s = s = structure
        t_n = s.horizon
        shift = sp.diags(np.ones(t_n - 1), -1, shape=(t_n, t_n), format="csc")
        self.x = {v: cp.Variable(t_n, name=v) for v in s.var_names}
        self.q = {v: cp.Parameter(t_n, name=f"q_{v}") for v in s.var_names}
        self.lo: dict[str, cp.Parameter] = {}
        self.hi: dict[str, cp.Parameter] = {}
        self.coef: dict[tuple[str, int], cp.Parameter] = {}
        self.cons: dict[str, list[cp.Constraint]] = {}
        constraints: list[cp.Constraint] = []
        for r in s.rows:
            parts = []
            for k, term in enumerate(r.terms):
                var = self.x[term.var] if term.lag == 0 else shift @ self.x[term.var]
                if term.dynamic:
                    self.coef[(r.name, k)] = cp.Parameter(t_n, name=f"c_{r.name}_{k}")
                    parts.append(cp.multiply(self.coef[(r.name, k)], var))
                else:
                    parts.append(cp.multiply(term.coef, var))
            expr = cp.sum(parts) if len(parts) > 1 else parts[0]
            cons: list[cp.Constraint] = []
            if r.sense in (Sense.EQ,):
                self.lo[r.name] = cp.Parameter(t_n, name=f"l_{r.name}")
                cons.append(expr == self.lo[r.name])
            if r.sense in (Sense.GE, Sense.RANGE):
                self.lo[r.name] = cp.Parameter(t_n, name=f"l_{r.name}")
                cons.append(expr >= self.lo[r.name])
            if r.sense in (Sense.LE, Sense.RANGE):
                self.hi[r.name] = cp.Parameter(t_n, name=f"u_{r.name}")
                cons.append(expr <= self.hi[r.name])
            self.cons[r.name] = cons
            constraints += cons
        objective = cp.sum([self.q[v] @ self.x[v] for v in s.var_names])
        for v, w in s.quad.items():
            if np.any(w > 0):
                objective = objective + cp.sum(cp.multiply(w, cp.square(self.x[v])))
        self.problem = cp.Problem(cp.Minimize(objective), constraints)
        if not self.problem.is_dpp():
            raise SolverError("reference problem is not DPP (a parameter multiplies a parameter)")

    def _assign(self, n: Numbers) -> None:
        for v in self.s.var_names:
            self.q[v].value = n.q[self.s.vslice(v)]
        for r in self.s.rows:
            sl = self.s.rslice(r.name)
            if r.name in self.lo:
                self.lo[r.name].value = np.clip(n.lo[sl], -penalties.BIG, penalties.BIG)
            if r.name in self.hi:
                self.hi[r.name].value = np.clip(n.hi[sl], -penalties.BIG, penalties.BIG)
        for key, par in self.coef.items():
            par.value = n.coef[key]

    def solve(self, n: Numbers) -> RawSolution:
        t0 = time.perf_counter()
        self._assign(n)
        try:
            self.problem.solve(
                solver=cp.CLARABEL,
                tol_gap_abs=TOL,
                tol_gap_rel=TOL,
                tol_feas=TOL,
                tol_ktratio=1e-7,
                max_iter=500,
            )
        except cp.SolverError as e:
            raise SolverError(f"Clarabel: {e}") from e
        status = str(self.problem.status)
        if status in (cp.INFEASIBLE, cp.INFEASIBLE_INACCURATE):
            raise InfeasibleError(f"Clarabel: {status}")
        if status != cp.OPTIMAL:
            raise SolverError(f"Clarabel: {status}")
        x = np.concatenate([np.asarray(self.x[v].value, dtype=np.float64) for v in self.s.var_names])
        y = np.zeros(self.s.m)
        for r in self.s.rows:
            sl = self.s.rslice(r.name)
            cons = self.cons[r.name]
            if r.sense == Sense.EQ:
                y[sl] = cons[0].dual_value
            elif r.sense == Sense.GE:
                y[sl] = -cons[0].dual_value
            elif r.sense == Sense.LE:
                y[sl] = cons[0].dual_value
            else:
                y[sl] = cons[1].dual_value - cons[0].dual_value
        stats = self.problem.solver_stats
        iters = int(stats.num_iters) if stats is not None and stats.num_iters is not None else 0
        return RawSolution(x, y, status, iters, (time.perf_counter() - t0) * 1e3)
