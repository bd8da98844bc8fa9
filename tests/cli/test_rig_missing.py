"""The CLI's advice for a missing rig is given only when the rig is really absent.

(Where it is absent, tests/packaging/test_wheels.py runs the rig commands from the agent's wheel.)
"""

from __future__ import annotations

from agent.cli.main import _rig_missing


def test_a_missing_module_inside_an_installed_rig_is_a_bug_not_advice() -> None:
    # The rig is installed here: a broken import inside it must surface as the error it is.
    assert not _rig_missing(ModuleNotFoundError("No module named 'hil.nowhere'", name="hil.nowhere"))


def test_other_missing_modules_are_not_the_rig() -> None:
    assert not _rig_missing(ModuleNotFoundError("No module named 'numpyy'", name="numpyy"))
    assert not _rig_missing(ModuleNotFoundError("no name"))
