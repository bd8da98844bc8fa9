"""MQTT failures, placed in the drivers' tree so callers can catch by kind.

``MqttTimeout`` is a :class:`~drivers.errors.DeviceTimeout` (and so a ``TimeoutError``), a broker
that refuses our credentials raises :class:`MqttAuthError` (an :class:`~drivers.errors.AuthError`),
and a payload that cannot be decoded a :class:`PayloadError` (a
:class:`~drivers.errors.ProtocolError`) naming the topic and the JSON path.
"""

from __future__ import annotations

from drivers.errors import AuthError, DeviceTimeout, DeviceUnavailable, DriverError, ProtocolError


class MqttError(DriverError):
    """Root of the MQTT driver's errors."""


class MqttTimeout(MqttError, DeviceTimeout):
    """The broker did not acknowledge (CONNACK, PUBACK, SUBACK) within the timeout."""


class MqttNotConnected(MqttError, DeviceUnavailable):
    """The client is not connected to the broker (down, unreachable, or reconnecting)."""


class MqttAuthError(MqttError, AuthError):
    """The broker refused the username/password or the client is not authorised."""


class MqttRefused(MqttError, ProtocolError):
    """The broker answered with a failure reason code (a refused publish or subscription)."""


class PayloadError(MqttError, ProtocolError):
    """A message payload could not be turned into a valid value.

    ``topic`` is where it arrived and ``field`` the value's name in the topic map (with the JSON
    path), so the installer can see which mapping or device is wrong.
    """

    def __init__(self, message: str, *, topic: str, field: str, device: str | None = None) -> None:
        super().__init__(f"{field} from {topic}: {message}", device=device)
        self.topic = topic
        self.field = field
