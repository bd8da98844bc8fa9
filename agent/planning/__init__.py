"""Planning glue: the config, the retailer's tenders, positions, forecasts and measured states
turned into the planner's :class:`~agent.optimizer.Devices` and :class:`~agent.optimizer.PlanInputs`.

    devices = devices_from_config(config)
    planner = Planner(devices, *planner_shape(config))
    built = build_inputs(config, devices, now, tenders=..., forecasts=..., state=MeasuredState(...),
                         positions_kw={interval: kw}, open_kw={tender_id: kw}, spot=[...])
    plan = await planner.plan_async(built.inputs, bid_intervals=4)
"""

from agent.planning.devices import devices_from_config, planned_devices
from agent.planning.errors import PlanningInputError
from agent.planning.inputs import (
    DEFAULT_PRICE_PER_KWH,
    BuiltInputs,
    MeasuredState,
    build_inputs,
    plan_horizon,
    planner_shape,
)
from agent.planning.ladders import LadderMap, Ladders, StepRef, build_ladders
from agent.planning.market import MarketRules

__all__ = [
    "DEFAULT_PRICE_PER_KWH",
    "BuiltInputs",
    "LadderMap",
    "Ladders",
    "MarketRules",
    "MeasuredState",
    "PlanningInputError",
    "StepRef",
    "build_inputs",
    "build_ladders",
    "devices_from_config",
    "plan_horizon",
    "planned_devices",
    "planner_shape",
]
