"""The exception tree of the device drivers.

Every failure of device I/O surfaces as one of these, so the caller can tell a timeout from
garbage from a bad configuration, and a reading that cannot be trusted never travels on as a
number. Foreign exceptions (pymodbus, paho, serial, gpiozero) are translated at the driver
boundary with ``raise ... from e``.
"""

from __future__ import annotations

from agent.errors import HemsError


class DriverError(HemsError):
    """Root of all driver errors. ``device`` names the configured device when known."""

    def __init__(self, message: str, *, device: str | None = None) -> None:
        super().__init__(f"{device}: {message}" if device else message)
        self.device = device


class DeviceTimeout(DriverError, TimeoutError):
    """The device did not answer within the request timeout.

    Also a :class:`TimeoutError` so generic timeout handling (``asyncio.timeout``) catches it.
    """


class DeviceUnavailable(DriverError):
    """The link to the device is down (connection refused, port gone, broker unreachable)."""


class StaleValue(DriverError):
    """A value is older than its limit, or has never been received."""


class ProtocolError(DriverError):
    """The device answered, but not with a usable value.

    Modbus exception responses, values outside the decodable range, SunSpec "not implemented"
    markers where a value is required, malformed payloads.
    """


class AuthError(DriverError):
    """The device or broker refused our credentials."""


class DriverConfigError(DriverError):
    """The driver settings cannot work (unknown type, bad map, write outside limits).

    ``field`` is the dotted key path of the offending setting when known.
    """

    def __init__(self, message: str, *, device: str | None = None, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message, device=device)
        self.field = field


class WriteVerifyError(DriverError):
    """A write was accepted but reading it back gave a different value (it did not stick)."""

    def __init__(self, message: str, *, device: str | None = None, wanted: object, got: object) -> None:
        super().__init__(f"{message} (wrote {wanted!r}, read back {got!r})", device=device)
        self.wanted = wanted
        self.got = got
