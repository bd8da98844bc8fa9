"""The *plan* phase: decide when to re-plan, and plan in the background.

A re-plan is due when there is no plan yet, when the householder changed an override, when a car
came or went, when a measured state left the plan by more than its threshold, and once per
metering interval, ``SETTLE_S`` after it began: a retailer publishes around interval boundaries
(the coming interval's spot price just before, the new hour's ladders and the near tenders just
after), so one plan a little after the boundary sees the whole burst instead of re-planning for
each message. Until then the last plan's step for the new interval dispatches (it was made for
it). A change of the tender book re-plans at once only when it brings a tender that cannot wait
for that scheduled plan: one for an interval that starts, or that closes, before the scheduled
plan plus ``URGENT_MARGIN_S``; every other change (spot prices, later ladders, the home's own
acceptances and transactions, expiries) waits for it. The solve runs in a worker
thread as a background task with a timeout: the cycle never waits for it, and dispatch keeps
using the last good plan (or safe rules) meanwhile. A failed plan is counted, kept as the reason,
and retried after a pause.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from agent.clock import Clock
from agent.config import Config
from agent.errors import HemsError
from agent.forecast import Forecaster
from agent.ledger import Ledger
from agent.link import RetailerLink
from agent.market.intervals import Interval, containing, intervals_between
from agent.market.records import Product, SpotPrice, Tender
from agent.optimizer import DemandInputs, Devices, Planner
from agent.optimizer.worker import PlannerProcess
from agent.planning import MeasuredState, build_inputs, plan_horizon, planner_shape
from agent.planning.demand import demand_inputs
from agent.planning.market import MarketRules
from agent.runtime.plan_record import PlanRecord, departure
from agent.tariff import HouseholdPrice, TariffCounterparty
from agent.trading import TradingRules
from agent.trading.post import postable_price_range
from agent.trading.spot_premium import SpotPremium

log = logging.getLogger(__name__)

# A plan of 24 h at 5 min solves in tens of milliseconds; bid curves add a few hundred. A plan
# still running after this long is abandoned (its thread finishes on its own, unused).
PLAN_TIMEOUT_S = 30.0
RETRY_AFTER_FAILURE_S = 30.0
BID_INTERVALS = 3
# A new metering interval is planned this long after it began (see the module's docstring).
SETTLE_S = 30.0
# A new tender that starts or closes before the scheduled plan plus this much (a plan, then the
# acceptance's trip to the retailer) is planned at once.
URGENT_MARGIN_S = 120.0
# The prices each bid curve is probed at, around the interval's marginal value. The trading step
# prices a buy no higher than the retailer's cheapest sell tender on offer and drops one below
# its dearest buy tender (agent.trading.post), and a ladder typically straddles the marginal
# value by less than 2 cents: so one probe a side at 2 cents decides the tenders that can be
# posted, for a third of the solves of a six-point curve (each probe is a full re-solve).
BID_OFFSETS_PER_KWH = (-0.02, 0.02)


class PlanPhase:
    def __init__(
        self,
        *,
        config: Config,
        clock: Clock,
        planner: Planner | PlannerProcess,
        devices: Devices,
        forecaster: Forecaster,
        ledger: Ledger,
        link: RetailerLink | None,
        tariff: TariffCounterparty | None = None,
        bid_intervals: int = BID_INTERVALS,
    ) -> None:
        self._config = config
        self._clock = clock
        self._planner = planner
        self._devices = devices
        self._forecaster = forecaster
        self._ledger = ledger
        self._link = link
        # Where market.source is a tariff, its standing tenders stand in for the retailer's book.
        self._tariff = tariff
        self._bid_intervals = bid_intervals
        self.current: PlanRecord | None = None
        self.version = 0  # bumps with every good plan (the transact phase follows it)
        self.plans = 0
        self.failures = 0
        self.last_error: str | None = None
        self.last_solve_ms = 0.0
        self._task: asyncio.Task[None] | None = None
        self._seen_book = -1
        self._seen_plugged: bool | None = None
        self._seen_interval: Interval | None = None
        self._seen_overrides = -1
        self._failed_at_s: float | None = None
        # Retailer tenders the last plan saw, and (per book version) the earliest deadline
        # among actionable ones it did not: when a re-plan for them cannot wait.
        self._planned_ids: frozenset[str] = frozenset()
        self._checked_book = -1
        self._unseen_deadline: datetime | None = None
        self._spot_premium = (
            SpotPremium(MarketRules.from_config(config), config.zone)
            if config.market.learn_spot_premium
            else None
        )

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The re-plan under way (None: none is): the cycle wakes when it ends, so a new plan is
        dispatched at once rather than at the next cycle."""
        return self._task if self.running else None

    def next_scheduled(self, now: datetime) -> datetime | None:
        """When the next metering interval's plan falls due (None: nothing planned yet, so a
        plan is due whenever the cycle runs). A cycle longer than the interval wakes for it."""
        return None if self.current is None else self._scheduled(now)

    def _scheduled(self, now: datetime) -> datetime:
        """``SETTLE_S`` into the current metering interval if it has not been planned yet (the
        instant may have passed: then its plan is due), else into the next one."""
        interval = containing(now, self._config.metering_interval, self._config.zone)
        if interval == self._seen_interval:
            interval = interval.next()
        return interval.start_utc + timedelta(seconds=SETTLE_S)

    def due(self, now: datetime, state: MeasuredState, overrides_version: int) -> str | None:
        """Why a re-plan is due now, or None."""
        if self.running:
            return None
        if (
            self._failed_at_s is not None
            and self._clock.monotonic_s() - self._failed_at_s < RETRY_AFTER_FAILURE_S
        ):
            return None
        if self.current is None:
            return "first plan" if self._failed_at_s is None else "retry after a failed plan"
        if overrides_version != self._seen_overrides:
            return "householder changed a setting"
        if state.ev_plugged is not None and state.ev_plugged != self._seen_plugged:
            # Within a minute, not at the next metering interval: a car just home may be the
            # one the plan kept the battery for, and it charges in the cheapest hours from now.
            return "car plugged in" if state.ev_plugged else "car unplugged"
        scheduled = self._scheduled(now)
        if now >= scheduled:
            return "new metering interval"
        departure = self._departure(now, state)
        if departure is not None:
            return departure
        if self._link is not None and self._link.book.version != self._seen_book:
            if self._config.planner.tenders_replan == "at_once":
                return "tenders changed"
            deadline = self._unseen_tender_deadline(now)
            if deadline is not None and deadline - timedelta(seconds=URGENT_MARGIN_S) < scheduled:
                return "new tender closes before the next plan"
        return None

    def _unseen_tender_deadline(self, now: datetime) -> datetime | None:
        """The earliest start or expiry of an actionable retailer tender the last plan did not
        see (None: no such tender); worked out once per book version."""
        assert self._link is not None
        book = self._link.book
        if book.version != self._checked_book:
            deadlines = [
                min(t.interval.start_utc, t.expires)
                for t in book.received()
                if t.actionable
                and t.product is Product.ENERGY
                and not t.is_expired(now)
                and t.id not in self._planned_ids
            ]
            self._unseen_deadline = min(deadlines, default=None)
            self._checked_book = book.version
        return self._unseen_deadline

    def _departure(self, now: datetime, state: MeasuredState) -> str | None:
        assert self.current is not None
        return departure(self.current, self._devices, state, now)

    def start(
        self, reason: str, state: MeasuredState, overrides_version: int, *, config: Config | None = None
    ) -> None:
        """Plan in the background; ``config`` is the configuration with the householder's settings."""
        now = self._clock.now()
        self._seen_book = self._link.book.version if self._link is not None else 0
        self._seen_interval = containing(now, self._config.metering_interval, self._config.zone)
        self._seen_overrides = overrides_version
        self._seen_plugged = state.ev_plugged
        self._task = asyncio.create_task(self._run(reason, state, now, config or self._config), name="plan")

    async def _run(self, reason: str, state: MeasuredState, now: datetime, config: Config) -> None:
        # Solve time is real time (what the gateway's CPU spent), not the agent's possibly fast clock.
        started_s = time.perf_counter()
        try:
            record = await asyncio.wait_for(self._plan(reason, state, now, config), PLAN_TIMEOUT_S)
        except (HemsError, TimeoutError, ValueError) as e:
            self.failures += 1
            text = f"{type(e).__name__}: {e}"
            if text != self.last_error:
                log.warning("plan failed (%s); dispatch keeps the last good plan or safe rules", text)
            self.last_error = text
            self._failed_at_s = self._clock.monotonic_s()
            return
        if self.last_error is not None:
            log.info("planning recovered")
        self.last_error = None
        self._failed_at_s = None
        self.last_solve_ms = (time.perf_counter() - started_s) * 1000.0
        self.current = record
        self.plans += 1
        self.version += 1

    def _horizon(self, config: Config, now: datetime) -> tuple[Interval, ...]:
        """The plan's intervals from now: the last plan's, moved on (building an interval is
        dear, and consecutive plans share all but the newest few)."""
        count, _ = planner_shape(config)
        first = containing(now, config.planner.step, config.zone)
        last = self.current.built.intervals if self.current is not None else ()
        if len(last) != count or first not in last:
            return plan_horizon(config, now)
        out = list(last[last.index(first) :])
        while len(out) < count:
            out.append(out[-1].next())
        return tuple(out)

    async def _plan(self, reason: str, state: MeasuredState, now: datetime, config: Config) -> PlanRecord:
        intervals = self._horizon(config, now)
        if config.metering_interval is config.planner.step:
            metering = list(intervals)
        else:
            metering = intervals_between(
                intervals[0].start_utc, intervals[-1].end_utc, config.metering_interval, config.zone
            )
        positions = await asyncio.to_thread(self._ledger.positions, metering, config.party_id)
        tenders: list[Tender] = []
        open_kw: dict[str, Decimal] = {}
        spot: list[SpotPrice] = []
        if self._link is not None:
            book = self._link.book.snapshot(now)
            self._planned_ids = frozenset(o.tender.id for o in book.offers)
            self._checked_book = -1
            for offer in (*book.offers, *book.transport):
                tenders.append(offer.tender)
                open_kw[offer.tender.id] = offer.available_kw
            spot = list(book.spot)
        demand = None
        if self._tariff is not None:
            quoted = await self._tariff.quote(intervals)
            tenders.extend(quoted.tenders)
            demand = await self._demand(config, quoted.prices, now)
        forecasts = self._forecaster.forecast(now, list(intervals))
        if self._spot_premium is not None:
            self._spot_premium.observe(tenders, spot, now)
        built = build_inputs(
            config,
            self._devices,
            now,
            tenders=tenders,
            forecasts=forecasts,
            state=state,
            positions_kw=dict(zip(metering, positions, strict=True)),
            open_kw=open_kw,
            spot=spot,
            horizon=intervals,
            spot_offset=None if self._spot_premium is None else self._spot_premium.offsets,
            demand=demand,
        )
        elapsed = None
        if self.current is not None:
            elapsed = max(0, self.current.index_at(intervals[0].start_utc) or 0)
        # The first interval holds now: nothing can be posted for it, so it gets no bid curve.
        # Only the prices at which a tender could be posted are probed (each probe is a solve).
        bid_range = postable_price_range(
            built.intervals,
            TradingRules.from_config(config),
            now,
            range(1, 1 + self._bid_intervals),
            ladders=built.ladders,
        )
        plan = await self._planner.plan_async(
            built.inputs,
            elapsed_intervals=elapsed,
            bid_intervals=self._bid_intervals,
            bid_offsets_per_kwh=BID_OFFSETS_PER_KWH,
            bid_from=1,
            bid_price_range=bid_range if self._link is not None else {},
        )
        return PlanRecord(plan, built, forecasts, now, reason)

    async def _demand(
        self, config: Config, prices: Sequence[HouseholdPrice], now: datetime
    ) -> DemandInputs | None:
        """The contract's demand charge over the plan, from the month's peak the ledger has booked
        (asked only where the contract has a demand charge)."""
        tariff = config.market.tariff
        if tariff is None or tariff.demand is None:
            return None
        peak_kw = await asyncio.to_thread(self._ledger.contract_peak_kw, config.party_id, now)
        return demand_inputs(tariff, prices, peak_kw)
