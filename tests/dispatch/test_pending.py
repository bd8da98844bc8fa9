"""load_change_w: what this cycle's commands change at the meter before the next snapshot."""

from __future__ import annotations

from agent.dispatch.commands import Action, Command, Decision, Mode
from agent.dispatch.cycle import DeviceState
from agent.dispatch.pending import load_change_w
from tests.dispatch.conftest import dispatcher, snapshot

D, _ = dispatcher()
EV = D._specs["ev"]  # 3 x 230 V: 690 W per A
TANK = D._specs["tank"]


def decided(action: Action, value: float | bool) -> Decision:
    return Decision(Mode.OPTIMISED, None, Command(action, value), Command(action, value))


def test_an_element_switched_off_takes_its_metered_power_away() -> None:
    snap = snapshot({"tank": {"water_heater.element_on": True, "water_heater.element_power_w": 2950.0}})
    assert load_change_w(TANK, decided(Action.ELEMENT_ON, False), DeviceState(), snap) == -2950.0
    # unmetered: its rating
    snap = snapshot({"tank": {"water_heater.element_on": True}})
    assert load_change_w(TANK, decided(Action.ELEMENT_ON, False), DeviceState(), snap) == -3000.0
    # no switch, no change
    assert load_change_w(TANK, decided(Action.ELEMENT_ON, True), DeviceState(), snap) == 0.0


def test_a_charger_that_follows_its_commands_changes_by_the_new_current() -> None:
    state = DeviceState(last=Command(Action.EV_CURRENT_A, 10.0))
    following = snapshot({"ev": {"ev.power_w": 6900.0}})
    assert load_change_w(EV, decided(Action.EV_CURRENT_A, 0.0), state, following) == -6900.0
    # a car that is full draws nothing whatever it is offered: left to the next snapshot
    full = snapshot({"ev": {"ev.power_w": 0.0}})
    assert load_change_w(EV, decided(Action.EV_CURRENT_A, 16.0), state, full) == 0.0
    # without a last command there is nothing to compare with
    assert load_change_w(EV, decided(Action.EV_CURRENT_A, 16.0), DeviceState(), following) == 0.0
