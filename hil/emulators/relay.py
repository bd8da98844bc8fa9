"""The water-heater contactor, driven by a GPIO pin the agent's relay driver sets.

Off a Pi the agent and the rig share one gpiozero mock pin factory in the same process: the
agent's ``gpio_relay`` device drives the pin as an output and the rig reads its level here. On a
Pi the same wiring is real: the pin drives a relay whose contact switches the element (see
``hil/README.md``).
"""

from __future__ import annotations

from typing import Any


class RelayInput:
    """Reads whether the relay on ``pin`` (BCM) is energised; ``active_high`` as the agent's driver."""

    def __init__(self, pin_factory: Any, pin: int, *, active_high: bool = True) -> None:
        self.factory = pin_factory
        self.pin = pin
        self.active_high = active_high
        self._pin = pin_factory.pin(pin)

    def closed(self) -> bool:
        return bool(self._pin.state) == self.active_high
