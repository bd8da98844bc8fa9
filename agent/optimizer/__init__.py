"""The planner: one convex QP over the home's flexible devices against tender ladders.

Public API (what the running agent uses)::

    planner = Planner(devices, horizon=288, dt_h=5 / 60)
    plan = await planner.plan_async(inputs, elapsed_intervals=1, bid_intervals=4)

``devices`` (:class:`Devices`) is static, ``inputs`` (:class:`PlanInputs`) changes per re-plan.
Every bound that a starting state can break is soft (see :mod:`agent.optimizer.penalties`), so a
plan always exists; a solver or plan-check failure raises an :class:`OptimizerError`.
"""

from agent.optimizer.battery import BatteryInputs, BatteryParams
from agent.optimizer.demand import DemandInputs
from agent.optimizer.errors import (
    InfeasibleError,
    InputError,
    OptimizerError,
    PlanCheckError,
    SolverError,
)
from agent.optimizer.ev import EvInputs, EvParams, EvSession
from agent.optimizer.grid import GridInputs, GridParams
from agent.optimizer.heat_pump import HeatPumpInputs, HeatPumpParams
from agent.optimizer.model import Devices, PlanInputs
from agent.optimizer.osqp_backend import OsqpSettings
from agent.optimizer.plan import BidCurve, BidPoint, Plan, SolveInfo
from agent.optimizer.planner import DEFAULT_BID_OFFSETS_PER_KWH, Planner
from agent.optimizer.water_heater import WaterHeaterInputs, WaterHeaterParams

__all__ = [
    "DEFAULT_BID_OFFSETS_PER_KWH",
    "BatteryInputs",
    "BatteryParams",
    "BidCurve",
    "BidPoint",
    "DemandInputs",
    "Devices",
    "EvInputs",
    "EvParams",
    "EvSession",
    "GridInputs",
    "GridParams",
    "HeatPumpInputs",
    "HeatPumpParams",
    "InfeasibleError",
    "InputError",
    "OptimizerError",
    "OsqpSettings",
    "Plan",
    "PlanCheckError",
    "PlanInputs",
    "Planner",
    "SolveInfo",
    "SolverError",
    "WaterHeaterInputs",
    "WaterHeaterParams",
]
