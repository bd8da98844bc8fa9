"""One scenario format for ``hems plan`` and ``hems simulate`` (docs/scenario-format.md).

A scenario is a YAML file naming a home's devices, its tariff and its data: CSV series of any
step and time zone, read with the stdlib ``csv`` module and resampled to the run's step.
"""

from agent.scenario.errors import ScenarioError
from agent.scenario.spec import ScenarioSpec, load_spec, parse_spec

__all__ = ["ScenarioError", "ScenarioSpec", "load_spec", "parse_spec"]
