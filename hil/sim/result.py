"""A run's results: the KPIs and checks from the plant's record, the agent's ledger and the references.

Both modes end here. :func:`references` works out what the agent is measured against (the
ordinary-rules baseline and perfect foresight on the same plant, tariff and period);
:func:`agent_side` reads the agent's side of a window from its ledger (its bill, cost per day,
intervals settled, transactions against the retailer's); :func:`combine` makes the
:class:`SimResult` from the three (a split run joins its parts' sides first:
:mod:`hil.fast.split`); :func:`assemble_result` does both for one run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from agent.config import Config, load_config
from agent.ledger import Ledger
from hil.sim.baseline import run_baseline
from hil.sim.compare import comparison, mean_import_price_per_kwh, per_day
from hil.sim.contract_pricing import ContractPricing, contract_parts, ledger_costs, settled_count
from hil.sim.foresight import ForesightResult, run_foresight_windows
from hil.sim.kpi import Kpis
from hil.sim.program import contract_market
from hil.sim.scenario import Scenario
from hil.sim.tariff import Pricing, Tariff, scenario_tariff

GATES = ("devices_in_limits", "no_transaction_lost")


@dataclass
class SimResult:
    scenario: Scenario
    kpis: Kpis
    checks: dict[str, str]  # name -> "ok" or what failed
    world: dict[str, Any]
    baseline_bins: list[dict[str, Any]]
    foresight_grid_kw: list[float]
    prices: list[float]
    bill: dict[str, float]
    wall_s: float
    agent_counters: dict[str, Any] = field(default_factory=dict)
    daily_costs: list[dict[str, Any]] = field(default_factory=list)  # per 24 h: agent, baseline, reference

    @property
    def ok(self) -> bool:
        """The run's gates: every device in limits and no transaction lost (settlement coverage
        is reported beside them; a fault such as a meter outage may leave an interval open)."""
        return all(self.checks.get(k) == "ok" for k in GATES)


@dataclass(frozen=True)
class References:
    """What the agent is measured against: the ordinary-rules baseline and perfect foresight on
    the same plant, tariff and period. They depend on the scenario and the agent's config alone,
    so a long run may work them out in another process while the agent runs."""

    baseline_cost: float
    baseline_bins: list[dict[str, Any]]
    foresight: ForesightResult
    baseline_comfort_c_h: float


def scenario_pricing(scenario: Scenario, config: Config) -> Pricing:
    """The prices the baseline and the reference are planned and billed by: the household's
    contract where the scenario names one, else the retailer's rules."""
    contract = scenario.contract
    if contract is None:
        return scenario_tariff(scenario)
    return ContractPricing(
        contract,
        zone=config.zone,
        start=scenario.start,
        days=scenario.days,
        step=config.metering_interval,
        market_at=contract_market(scenario, config.zone)[0],
    )


def references(scenario: Scenario, config_path: str) -> References:
    config = load_config(Path(config_path))
    tariff = scenario_pricing(scenario, config)
    bin_s = config.metering_interval.nominal.total_seconds()
    baseline = run_baseline(scenario.home, scenario.start, scenario.days, tariff, bin_s=bin_s)
    foresight = run_foresight_windows(
        config, scenario.home, scenario.start, scenario.days, tariff, step_s=bin_s
    )
    return References(
        baseline.cost,
        [b.to_json() for b in baseline.recorder.bins],
        foresight,
        baseline.recorder.comfort_c_h,
    )


@dataclass(frozen=True)
class AgentSide:
    """What the agent's own records say about a window of the run: its bill, its cost per day,
    the intervals it settled, and its transactions against the retailer's."""

    cost: float
    bill: dict[str, float]
    settled_intervals: int
    transactions: int
    day_costs: tuple[float, ...]  # each 24 h from the window's start (the last may be shorter)
    missing: tuple[str, ...]  # the retailer's transactions the ledger lacks
    extra: tuple[str, ...]  # the ledger's transactions the retailer does not know


def agent_side(
    scenario: Scenario,
    config: Config,
    world: dict[str, Any],
    start: datetime,
    end: datetime,
    *,
    followed_at: datetime | None = None,
) -> AgentSide:
    """The agent's side of ``[start, end)`` from its ledger; ``followed_at``: where another part
    of a split run takes over (the transactions for its intervals are counted there)."""
    retailer = world.get("retailer", {})
    ledger = Ledger.open(config.state_dir, config.zone, home_party=config.party_id)
    try:
        if scenario.contract is None:
            bill = ledger.bill(config.party_id, start, end)
            cost = float(bill.total)
            bill_parts = {
                "forward": float(bill.forward),
                "spot": float(bill.spot),
                "transport": float(bill.transport),
                "retailer_view": float(retailer.get("bill", "nan")),
            }
            settled_intervals = sum(1 for x in bill.lines if x.kind.value == "spot")

            def cost_between(a: datetime, b: datetime) -> float:
                return float(ledger.bill(config.party_id, a, b).total)
        else:
            charges = ledger_costs(ledger, config.party_id, start, end)
            cost = sum(amount for _, amount in charges)
            bill_parts = contract_parts(ledger, config.party_id, start, end)
            settled_intervals = settled_count(ledger, config.party_id, start, end)

            def cost_between(a: datetime, b: datetime) -> float:
                return sum(amount for at, amount in charges if a <= at < b)

        ledger_tx = {t.id: t for t in ledger.transactions(party=config.party_id)}
        days = (end - start).total_seconds() / 86400.0
        day_costs = tuple(
            round(cost_between(start + timedelta(days=d), min(start + timedelta(days=d + 1), end)), 4)
            for d in range(int(days + 0.999999))
        )
    finally:
        ledger.close()
    retailer_tx = retailer.get("transactions", [])
    theirs = {t["id"] for t in retailer_tx if datetime.fromisoformat(t["executed"]) < end}
    counted = [
        t
        for t in ledger_tx.values()
        if t.interval.start_utc >= start and (followed_at is None or t.interval.start_utc < followed_at)
    ]
    return AgentSide(
        cost=cost,
        bill=bill_parts,
        settled_intervals=settled_intervals,
        transactions=len(counted),
        day_costs=day_costs,
        missing=tuple(sorted(theirs - set(ledger_tx))),
        extra=tuple(sorted(set(ledger_tx) - {t["id"] for t in retailer_tx})),
    )


def assemble_result(
    scenario: Scenario,
    config_path: str,
    world: dict[str, Any],
    counters: dict[str, Any],
    end: datetime,
    *,
    wall0: float,
    refs: References | None = None,
) -> SimResult:
    """The run's KPIs and checks; ``refs``: the references if worked out already."""
    config = load_config(Path(config_path))
    side = agent_side(scenario, config, world, scenario.start, end)
    return combine(
        scenario, config, config_path, world=world, counters=counters, side=side, wall0=wall0, refs=refs
    )


def combine(
    scenario: Scenario,
    config: Config,
    config_path: str,
    *,
    world: dict[str, Any],
    counters: dict[str, Any],
    side: AgentSide,
    wall0: float,
    refs: References | None = None,
    seam_stored_kwh: float = 0.0,
) -> SimResult:
    """The KPIs and checks of a run (or of a split run's parts joined) from the plant's record,
    the agent's side and the references. ``seam_stored_kwh``: energy a split run's stores held
    more at the start of each part than at the end of the part before, summed (the parts'
    warm-ups did not pay for it here, so ``cost_adjusted`` charges it). ``config``: the agent's,
    as read from ``config_path`` (which the references read when they are not given)."""
    tariff = scenario_pricing(scenario, config)
    bin_s = config.metering_interval.nominal.total_seconds()
    if refs is None:
        refs = references(scenario, config_path)
    baseline_bins = refs.baseline_bins
    foresight = refs.foresight

    def agent_day(a: datetime, b: datetime) -> float:
        return side.day_costs[round((a - scenario.start) / timedelta(days=1))]

    daily = per_day(
        scenario.start, scenario.days, agent=agent_day,
        baseline_bins=baseline_bins, foresight_grid_kw=foresight.grid_kw, tariff=tariff, bin_s=bin_s,
    )  # fmt: skip
    retailer = world.get("retailer", {})
    checks: dict[str, str] = {}
    limits = world["limit_violations"]
    checks["devices_in_limits"] = (
        "ok" if not limits else f"{len(limits)} step(s) out of limits, first: {limits[0]}"
    )
    missing, extra = list(side.missing), list(side.extra)
    checks["no_transaction_lost"] = (
        "ok"
        if not missing and not extra
        else f"missing in the ledger: {missing[:5]}; unknown to the retailer: {extra[:5]}"
    )
    settled_intervals = side.settled_intervals
    expected = int(scenario.days * 86400 // bin_s)
    checks["settled"] = (
        "ok"
        if settled_intervals and settled_intervals >= expected * 0.95
        else (f"{settled_intervals or 0} of {expected} intervals settled")
    )
    cost = side.cost
    kpis = Kpis(
        cost=cost,
        baseline_cost=refs.baseline_cost,
        perfect_foresight_cost=foresight.cost,
        comfort_violation_c_h=world["comfort_violation_c_h"],
        baseline_comfort_violation_c_h=refs.baseline_comfort_c_h,
        tank_violation_c_h=world["tank_violation_c_h"],
        ev_shortfall_kwh=world["ev_shortfall_kwh"],
        energy_balance_error_kwh=world["energy_balance_error_kwh"],
        transactions=side.transactions,
        tenders_posted=int(retailer.get("home_tenders", 0)),
        tenders_accepted_by_retailer=int(retailer.get("home_tenders_executed", 0)),
        faults_injected=int(world["faults_injected"]),
        plans=int(counters["plans"]),
        plan_failures=int(counters["plan_failures"]),
        **comparison(
            cost=cost,
            baseline_cost=refs.baseline_cost,
            foresight_cost=foresight.cost,
            bins=world["bins"],
            baseline_bins=baseline_bins,
            params=scenario.home,
            price_per_kwh=mean_import_price_per_kwh(tariff, scenario.start, scenario.days, bin_s),
            bin_s=bin_s,
            # The market KPIs read spot prices, which a contract does not have.
            tariff=tariff if isinstance(tariff, Tariff) else None,
            seam_stored_kwh=seam_stored_kwh,
        ),
    )
    step = timedelta(seconds=bin_s)
    n = int(scenario.days * 86400 // bin_s)
    prices = [tariff.buy_per_kwh(scenario.start + i * step) for i in range(n)]
    return SimResult(
        scenario=scenario,
        kpis=kpis,
        checks=checks,
        world=world,
        baseline_bins=baseline_bins,
        foresight_grid_kw=foresight.grid_kw,
        prices=prices,
        bill=side.bill,
        wall_s=time.perf_counter() - wall0,
        agent_counters=counters,
        daily_costs=daily,
    )
