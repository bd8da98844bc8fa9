"""The planner the agent calls: build once, re-plan fast, check every plan, price bid curves.

``Planner.plan`` is synchronous and blocking (a few ms to tens of ms). ``plan_async`` runs it in
a worker thread, which keeps the event loop free only between solves: PIQP holds the GIL while it
solves. The running agent therefore plans through :class:`agent.optimizer.worker.PlannerProcess`
(the same call, answered by a child process). One planner serves one caller at a time (a lock
guards the solver state).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

import numpy as np

from agent.optimizer.errors import InputError, OptimizerError, PlanCheckError, SolverError
from agent.optimizer.model import Devices, Model, PlanInputs, Probe
from agent.optimizer.osqp_backend import OsqpBackend, OsqpSettings, RawSolution, shift_blocks
from agent.optimizer.piqp_backend import PiqpBackend, PiqpSettings
from agent.optimizer.plan import BidCurve, BidPoint, Plan, SolveInfo
from agent.optimizer.structure import Numbers, Vec

log = logging.getLogger(__name__)

# Prices (currency/kWh) around an interval's marginal value at which a bid curve is sampled.
DEFAULT_BID_OFFSETS_PER_KWH: tuple[float, ...] = (-0.1, -0.05, -0.02, 0.02, 0.05, 0.1)
# Largest row violation (kW, kWh or K) a plan may carry; the dispatcher works to 0.01 kW anyway.
DEFAULT_TOL = 1e-3
# Bid quantities are truncated toward zero to this many steps per kW (0.1 W).
BID_QUANTUM_PER_KW = 1e4


class Planner:
    def __init__(
        self, devices: Devices, horizon: int, dt_h: float, *,
        backend: Literal["piqp", "osqp"] = "piqp", tol: float = DEFAULT_TOL,
        piqp_settings: PiqpSettings | None = None, osqp_settings: OsqpSettings | None = None,
    ) -> None:  # fmt: skip
        """``backend``: "piqp" (interior point, the default: exact and fast) or "osqp" (ADMM,
        warm-started from the shifted previous plan; slow on long horizons, see docs/optimizer.md)."""
        self.model = Model(devices, horizon, dt_h)
        self.tol = tol
        self.backend = backend
        self._piqp = (
            PiqpBackend(self.model.structure, piqp_settings or PiqpSettings()) if backend == "piqp" else None
        )
        self._osqp = (
            OsqpBackend(self.model.structure, osqp_settings or OsqpSettings()) if backend == "osqp" else None
        )
        if self._piqp is None and self._osqp is None:
            raise InputError("backend", f"must be 'piqp' or 'osqp', got {backend!r}")
        self._reference: Any = None  # ReferenceBackend, imported on first use (cvxpy is heavy)
        _, self._a, self._a_pos = self.model.structure.matrices()
        self._last: tuple[Vec, Vec] | None = None
        self.probe_solves = 0  # bid-curve probe solves so far (the benchmark reports them)
        self._lock = threading.Lock()

    @property
    def horizon(self) -> int:
        return self.model.horizon

    @property
    def variables(self) -> int:
        return self.model.structure.n

    # -- planning ---------------------------------------------------------------------------------
    def plan(
        self, inputs: PlanInputs, *, elapsed_intervals: int | None = 0,
        bid_intervals: int = 0, bid_offsets_per_kwh: Sequence[float] = DEFAULT_BID_OFFSETS_PER_KWH,
        bid_from: int = 0, bid_price_range: Mapping[int, tuple[float, float]] | None = None,
    ) -> Plan:  # fmt: skip
        """Plan from ``inputs``. ``elapsed_intervals``: how far time moved since the last plan
        (its solution, shifted by that much, is the warm start; None: start cold). Bid curves
        are priced for ``bid_intervals`` intervals from ``bid_from`` (each costs a few solves,
        so an interval nothing can be posted for is best skipped). ``bid_price_range``, where
        given, narrows that to the intervals it names and, in each, to the probe prices from its
        low to its high end (a buy below the low end or a sell above the high end would not be
        posted, so its probe solve is saved); a curve left with no price is not priced."""
        with self._lock:
            n = self.model.numbers(inputs)
            warm = self._warm(elapsed_intervals)
            try:
                raw = self._solve(n, warm)
            except SolverError:
                if warm is None:
                    raise
                log.debug("warm-started solve failed; retrying cold", exc_info=True)
                raw = self._solve(n, self._cold())
            plan = self._assemble(raw, n, inputs, self.backend)
            self._last = (raw.x, raw.y)
            if bid_intervals > 0:
                bids = self._bids(
                    n, raw, plan, range(bid_from, bid_from + bid_intervals), bid_offsets_per_kwh,
                    price_range=bid_price_range,
                )  # fmt: skip
                plan = replace(plan, bids=bids)
            return plan

    async def plan_async(
        self, inputs: PlanInputs, *, elapsed_intervals: int | None = 0,
        bid_intervals: int = 0, bid_offsets_per_kwh: Sequence[float] = DEFAULT_BID_OFFSETS_PER_KWH,
        bid_from: int = 0, bid_price_range: Mapping[int, tuple[float, float]] | None = None,
    ) -> Plan:  # fmt: skip
        """:meth:`plan` in a worker thread (the solver blocks)."""
        return await asyncio.to_thread(
            self.plan, inputs, elapsed_intervals=elapsed_intervals,
            bid_intervals=bid_intervals, bid_offsets_per_kwh=bid_offsets_per_kwh, bid_from=bid_from,
            bid_price_range=bid_price_range,
        )  # fmt: skip

    def reference_plan(self, inputs: PlanInputs) -> Plan:
        """The same problem through cvxpy + Clarabel at 1e-8 (slow; for tests and the benchmark)."""
        with self._lock:
            if self._reference is None:
                from agent.optimizer.reference import ReferenceBackend

                self._reference = ReferenceBackend(self.model.structure)
            n = self.model.numbers(inputs)
            raw: RawSolution = self._reference.solve(n)
            return self._assemble(raw, n, inputs, "reference")

    def check(self, plan: Plan, inputs: PlanInputs) -> None:
        """Raise :class:`PlanCheckError` unless every limit, dynamic and balance holds in ``plan``."""
        problems = self.model.check(dict(plan.series), inputs, self.tol)
        if problems:
            raise PlanCheckError(problems)

    # -- internals --------------------------------------------------------------------------------
    def _solve(
        self, n: Numbers, warm: tuple[Vec, Vec] | None, *, precise: bool = False, keep: tuple[int, ...] = ()
    ) -> RawSolution:
        if self._piqp is not None:
            return self._piqp.solve(n, precise=precise, keep=keep)
        assert self._osqp is not None
        return self._osqp.solve(n, warm)

    def _warm(self, elapsed: int | None) -> tuple[Vec, Vec] | None:
        if self._last is None or elapsed is None or self._osqp is None:
            return None
        s = self.model.structure
        x = shift_blocks(self._last[0], len(s.var_names), s.horizon, elapsed)
        y = shift_blocks(self._last[1], len(s.rows), s.horizon, elapsed)
        return x, y

    def _cold(self) -> tuple[Vec, Vec]:
        return np.zeros(self.model.structure.n), np.zeros(self.model.structure.m)

    def _violation(self, n: Numbers, x: Vec) -> float:
        vals, idx = n.a_values(self._a_pos)
        self._a.data[idx] = vals
        ax = self._a @ x
        return float(max(np.max(n.lo - ax), np.max(ax - n.hi), 0.0))

    def _assemble(
        self, raw: RawSolution, n: Numbers, inputs: PlanInputs, backend: str, probe: Probe | None = None
    ) -> Plan:
        series = self.model.series(raw.x, inputs)
        violation = self._violation(n, raw.x)
        problems = self.model.check(series, inputs, self.tol)
        if violation > self.tol:
            problems.append(f"a constraint row is violated by {violation:.3g}")
        if problems:
            raise PlanCheckError(problems)
        # The trade row reads  sum(buy) - ... = -position; at an interior ladder step the OSQP dual
        # is -price*dt, so the value of a kWh is -y/dt (checked against prices in the tests).
        mv = -raw.y[self.model.structure.rslice("trade")] / self.model.dt_h
        info = SolveInfo(backend, raw.status, raw.iterations, raw.solve_ms, violation)
        return Plan(
            horizon=self.model.horizon,
            dt_h=self.model.dt_h,
            series=series,
            cost=self.model.costs(series, inputs, probe),
            marginal_value_per_kwh=mv,
            solver=info,
        )

    def _bids(
        self, n: Numbers, base: RawSolution, plan: Plan, which: range, offsets: Sequence[float], *,
        price_range: Mapping[int, tuple[float, float]] | None,
    ) -> tuple[BidCurve, ...]:  # fmt: skip
        everywhere = (-np.inf, np.inf)
        prices: dict[int, list[float]] = {}
        for t in which:
            if not 0 <= t < self.model.horizon or (price_range is not None and t not in price_range):
                continue
            mv = float(plan.marginal_value_per_kwh[t])
            low, high = everywhere if price_range is None else price_range[t]
            # Below the marginal value a probe can only buy, above it only sell (convexity).
            kept = [
                p for p in sorted({round(mv + o, 6) for o in offsets}) if low <= p < mv or mv <= p <= high
            ]
            if kept:
                prices[t] = kept
        # Every probe of this plan keeps all bid intervals' market columns in its smaller problem,
        # so one solver (set up once) serves them all instead of one per interval (memory).
        market = self._market(list(prices))
        return tuple(
            BidCurve(t, self._curve(n, base, t, float(plan.marginal_value_per_kwh[t]), ps, market=market))
            for t, ps in prices.items()
        )

    def _market(self, ts: Sequence[int]) -> tuple[int, ...]:
        """Columns of the unmatched buy and sell in intervals ``ts`` (what a probe prices)."""
        xb, xs = self.model.structure.vslice("x_buy"), self.model.structure.vslice("x_sell")
        return tuple(sorted({xb.start + t for t in ts} | {xs.start + t for t in ts}))

    def _curve(
        self, n: Numbers, base: RawSolution, t: int, mv: float, prices: list[float], *,
        market: tuple[int, ...],
    ) -> tuple[BidPoint, ...]:  # fmt: skip
        """Probe interval ``t`` at each of ``prices`` (ascending), one solve per price at most.

        The quantity never rises with the price (convexity), so a price whose neighbours on both
        sides got the same quantity gets it too, without a solve: probes go outermost first on each
        side of the marginal value, then bisect only where the quantities differ.
        """
        found: dict[int, float] = {}

        def bisect(idx: list[int]) -> None:
            for i in sorted({idx[0], idx[-1]} - found.keys()):
                qty = self._probe(n, base, t, prices[i], market)
                if qty is not None:
                    found[i] = qty
            inner = idx[1:-1]
            if not inner:
                return
            lo, hi = found.get(idx[0]), found.get(idx[-1])
            if lo is not None and lo == hi:
                found.update(dict.fromkeys(inner, lo))
                return
            mid = len(idx) // 2
            bisect(idx[: mid + 1])
            bisect(idx[mid:])

        below = [i for i, p in enumerate(prices) if p < mv]
        above = [i for i, p in enumerate(prices) if p >= mv]
        for side in (below, above):
            if side:
                bisect(side)
        return tuple(BidPoint(prices[i], found[i]) for i in sorted(found))

    def _probe(
        self, n: Numbers, base: RawSolution, t: int, price: float, market: tuple[int, ...] | None = None
    ) -> float | None:
        """kW the home would trade on top of its plan in interval ``t`` if it could at ``price``."""
        s, dt = self.model.structure, self.model.dt_h
        xb, xs = s.vslice("x_buy"), s.vslice("x_sell")
        probe = Numbers(s, n.q.copy(), n.lo, n.hi, n.coef)
        probe.q[xb.start + t] = price * dt
        probe.q[xs.start + t] = -price * dt
        self.probe_solves += 1
        try:
            # The probe prices interval t's unmatched energy to be used: keep those columns.
            keep = self._market([t]) if market is None else market
            raw = self._solve(probe, (base.x, base.y), precise=True, keep=keep)
        except OptimizerError:
            log.debug("bid probe at t=%d price=%.4f failed", t, price, exc_info=True)
            return None
        qty = float(raw.x[xb.start + t] - raw.x[xs.start + t])
        # Toward zero at 0.1 W: a tender for a hair more than the optimum could cross a price step.
        return float(np.trunc(qty * BID_QUANTUM_PER_KW) / BID_QUANTUM_PER_KW)
