"""Errors of the planner; all derive from :class:`OptimizerError`.

The running agent treats any of them the same way (fall back to the last good plan or the safe
rules), but the type says why: bad numbers handed in, a solver that did not converge, or a
solution that failed the independent plan check.
"""

from __future__ import annotations

from agent.errors import HemsError


class OptimizerError(HemsError):
    """Root of the planner's errors."""


class InputError(OptimizerError):
    """Device parameters or per-interval inputs are malformed; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def __reduce__(self) -> tuple[type[InputError], tuple[str, str]]:
        # Rebuilt from both arguments: the planner process sends its errors back pickled.
        return (type(self), (self.field, self.message))


class InfeasibleError(OptimizerError):
    """The solver reports the problem infeasible (a modelling bug: every bound is soft)."""


class SolverError(OptimizerError):
    """The solver failed, stopped early or returned numbers that are not finite."""


class PlanCheckError(OptimizerError):
    """A solution violates a device limit, the dynamics or the power balance beyond tolerance."""

    def __init__(self, problems: list[str]) -> None:
        shown = "; ".join(problems[:5])
        more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"plan check failed: {shown}{more}")
        self.problems = problems

    def __reduce__(self) -> tuple[type[PlanCheckError], tuple[list[str]]]:
        return (type(self), (self.problems,))
