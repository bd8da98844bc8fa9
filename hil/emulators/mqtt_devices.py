"""The emulated MQTT devices, speaking exactly what the project's topic maps expect.

* :class:`Z2mThermostat` — ``drivers/mqtt/maps/zigbee2mqtt_thermostat.yaml``: one JSON state
  object on ``<base>``, commands on ``<base>/set``, availability JSON on ``<base>/availability``.
  The setpoint is kept in 0.5 K steps, as most TRVs do. In cooling mode the same setpoint point
  is the cooling target (the map only carries ``occupied_heating_setpoint``).
* :class:`ShellyWaterHeater` — ``shelly_water_heater.yaml``: ``<base>/status/switch:0`` and
  ``<base>/status/temperature:100`` JSON, ``<base>/command/switch:0`` text on/off/toggle and
  ``<base>/rpc`` ``Switch.Set`` (``on``, optional ``toggle_after`` s: the switch flips back that
  long after, on the rig's clock, unless set again), ``<base>/online`` true/false (its last
  will). With ``relay`` set, the element follows that relay (a GPIO pin) and switch commands
  are ignored.
* :class:`OpenEvse` — ``openevse.yaml``: one bare value per ``<base>/<key>``; claims on
  ``<base>/claim/set`` (JSON, or ``release``) echoed retained on ``<base>/claim``. Without a
  claim the EVSE charges at its maximum current whenever a car is plugged in.

Each reads its physical state from the plant through small getters the rig passes in, and turns
commands into what the plant needs (a setpoint, the element switch, a pilot current).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from hil.emulators.mqtt_base import MqttEmulator

Getter = Callable[[], float]


def _round_half(x: float) -> float:
    return round(x * 2.0) / 2.0


class Z2mThermostat(MqttEmulator):
    def __init__(
        self,
        host: str,
        port: int,
        base_topic: str,
        *,
        indoor_c: Getter,
        setpoint_c: float,
        mode: str,
        heating_active: Callable[[], bool],
        publish_every_s: float = 10.0,
    ) -> None:
        super().__init__(
            "thermostat",
            host,
            port,
            base_topic,
            will=(f"{base_topic}/availability", '{"state":"offline"}'),
            online=(f"{base_topic}/availability", '{"state":"online"}'),
            publish_every_s=publish_every_s,
        )
        self.command_topics = (f"{base_topic}/set",)
        self._indoor_c = indoor_c
        self._active = heating_active
        self.setpoint_c = _round_half(setpoint_c)
        self.system_mode = "cool" if mode == "cooling" else "heat"

    def handle(self, topic: str, payload: bytes) -> None:
        doc = json.loads(payload)
        if not isinstance(doc, dict):
            raise ValueError("command is not a JSON object")
        if "occupied_heating_setpoint" in doc:
            wanted = float(doc["occupied_heating_setpoint"])
            self.setpoint_c = min(30.0, max(5.0, _round_half(wanted)))
        if "system_mode" in doc:
            mode = str(doc["system_mode"])
            if mode not in ("off", "heat", "cool", "auto"):
                raise ValueError(f"unknown system_mode {mode!r}")
            self.system_mode = mode
        self.publish_state(0.0, force=True)

    def state_messages(self) -> Mapping[str, Any]:
        active = self._active()
        running = ("cool" if self.system_mode == "cool" else "heat") if active else "idle"
        return {
            self.base: {
                "local_temperature": round(self._indoor_c(), 1),
                "occupied_heating_setpoint": self.setpoint_c,
                "system_mode": self.system_mode,
                "running_state": running,
                "battery": 97,
                "linkquality": 120,
            }
        }


class ShellyWaterHeater(MqttEmulator):
    def __init__(
        self,
        host: str,
        port: int,
        base_topic: str,
        *,
        tank_c: Getter,
        element_w: Getter,
        energy_wh: Getter,
        relay: Callable[[], bool] | None = None,
        clock_s: Callable[[], float] | None = None,
        publish_every_s: float = 10.0,
    ) -> None:
        super().__init__(
            "water_heater",
            host,
            port,
            base_topic,
            will=(f"{base_topic}/online", "false"),
            online=(f"{base_topic}/online", "true"),
            publish_every_s=publish_every_s,
        )
        self.command_topics = (f"{base_topic}/command/switch:0", f"{base_topic}/rpc")
        self._tank_c = tank_c
        self._element_w = element_w
        self._energy_wh = energy_wh
        self._relay = relay
        self._clock_s = clock_s
        self._output = False
        self._flip_at_s: float | None = None  # toggle_after's deadline on the rig's clock

    @property
    def output(self) -> bool:
        """Whether the element's switch is closed (the relay's pin when wired to one)."""
        if self._relay is not None:
            return self._relay()
        if self._flip_at_s is not None and self._clock_s is not None and self._clock_s() >= self._flip_at_s:
            self._output, self._flip_at_s = not self._output, None
        return self._output

    def handle(self, topic: str, payload: bytes) -> None:
        if self._relay is not None:
            raise ValueError("switch follows the GPIO relay; MQTT commands are ignored")
        if topic.endswith("/rpc"):
            self._rpc(payload)
        else:
            text = payload.decode("utf-8").strip().lower()
            if text not in ("on", "off", "toggle"):
                raise ValueError(f"unknown switch command {text!r}")
            self._output = (not self._output) if text == "toggle" else text == "on"
            self._flip_at_s = None
        self.publish_state(0.0, force=True)

    def _rpc(self, payload: bytes) -> None:
        try:
            call = json.loads(payload)
            params = call["params"]
            method, on, after = call["method"], params["on"], params.get("toggle_after")
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f"malformed RPC call: {e}") from e
        if method != "Switch.Set" or params.get("id", 0) != 0 or not isinstance(on, bool):
            raise ValueError(f"unsupported RPC call {method!r} {params!r}")
        bad_after = not isinstance(after, int | float) or isinstance(after, bool) or after <= 0
        if after is not None and bad_after:
            raise ValueError(f"toggle_after must be a positive number of seconds, got {after!r}")
        self._output = on
        self._flip_at_s = None
        if after is not None and self._clock_s is not None:
            self._flip_at_s = self._clock_s() + float(after)

    def state_messages(self) -> Mapping[str, Any]:
        power_w = self._element_w()
        return {
            f"{self.base}/status/switch:0": {
                "id": 0,
                "source": "mqtt",
                "output": self.output,
                "apower": round(power_w, 1),
                "voltage": 230.0,
                "current": round(power_w / 230.0, 3),
                "aenergy": {"total": round(self._energy_wh(), 3)},
                "temperature": {"tC": 41.0, "tF": 105.8},
            },
            f"{self.base}/status/temperature:100": {
                "id": 100,
                "tC": round(self._tank_c(), 1),
                "tF": round(self._tank_c() * 9 / 5 + 32, 1),
            },
        }


class OpenEvse(MqttEmulator):
    def __init__(
        self,
        host: str,
        port: int,
        base_topic: str,
        *,
        max_current_a: float,
        plugged: Callable[[], bool],
        power_w: Getter,
        session_wh: Getter,
        vehicle_soc_pct: Getter,
        publish_every_s: float = 10.0,
    ) -> None:
        super().__init__("ev_charger", host, port, base_topic, publish_every_s=publish_every_s)
        self.command_topics = (f"{base_topic}/claim/set",)
        self.max_current_a = max_current_a
        self._plugged = plugged
        self._power_w = power_w
        self._session_wh = session_wh
        self._soc = vehicle_soc_pct
        self.claim: dict[str, Any] | None = None

    @property
    def pilot_a(self) -> float:
        if self.claim is not None and "charge_current" in self.claim:
            return float(min(self.max_current_a, float(self.claim["charge_current"])))
        return float(int(self.max_current_a))

    @property
    def disabled(self) -> bool:
        return self.claim is not None and self.claim.get("state") == "disabled"

    def offered_a(self) -> float:
        """The current the car may draw now (0 while paused)."""
        return 0.0 if self.disabled else self.pilot_a

    def handle(self, topic: str, payload: bytes) -> None:
        text = payload.decode("utf-8").strip()
        if text == "release":
            self.claim = None
            self.publish(f"{self.base}/claim", "null", retain=True)
        else:
            doc = json.loads(text)
            if not isinstance(doc, dict) or doc.get("state") not in ("active", "disabled"):
                raise ValueError("claim must be an object with state active or disabled")
            claim: dict[str, Any] = {"state": doc["state"]}
            if "charge_current" in doc:
                current = int(doc["charge_current"])
                if not 6 <= current <= 80:
                    raise ValueError(f"charge_current {current} outside 6..80 A")
                claim["charge_current"] = current
            elif self.claim is not None and "charge_current" in self.claim:
                claim["charge_current"] = self.claim["charge_current"]
            self.claim = claim
            self.publish(f"{self.base}/claim", claim, retain=True)
        self.publish_state(0.0, force=True)

    def state_messages(self) -> Mapping[str, Any]:
        plugged = self._plugged()
        power_w = self._power_w()
        if not plugged:
            state = 1
        elif self.disabled:
            state = 254
        else:
            state = 3 if power_w > 0 else 2
        b = self.base
        return {
            f"{b}/vehicle": "1" if plugged else "0",
            f"{b}/state": str(state),
            f"{b}/power": f"{power_w:.0f}",
            f"{b}/amp": f"{power_w / 230.0 * 1000.0:.0f}",
            f"{b}/voltage": "230",
            f"{b}/pilot": f"{self.pilot_a:.0f}",
            f"{b}/session_energy": f"{self._session_wh():.1f}",
            f"{b}/vehicle_soc": f"{self._soc():.0f}",
            f"{b}/temp": "245",
        }
