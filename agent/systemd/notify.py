"""sd_notify(3) in plain Python: one datagram per state change to ``$NOTIFY_SOCKET``.

The protocol is newline-separated ``KEY=VALUE`` assignments in a single datagram on an
``AF_UNIX``/``SOCK_DGRAM`` socket. ``NOTIFY_SOCKET`` is a file-system path, or an abstract
socket name written with a leading ``@``. Without the variable (not started by systemd, or a
``Type=`` that does not listen) every method does nothing and returns ``False``.

A send that fails is logged once (repeats at DEBUG, then "recovered"): the agent must not stop
controlling the home because the service manager is briefly unreachable; the watchdog will
tell if it stays so.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping

from agent.systemd.errors import NotifyError

_log = logging.getLogger("agent.systemd")

# systemd accepts datagrams up to the socket's buffer; sd_notify messages are short, and a
# STATUS longer than this is cut so that a runaway status text cannot make the send fail.
MAX_STATUS_CHARS = 1024


def _address(raw: str) -> str | bytes:
    if raw.startswith("@"):
        if len(raw) == 1:
            raise NotifyError("NOTIFY_SOCKET", "an abstract socket name needs characters after '@'")
        # Abstract namespace: a leading NUL byte instead of '@' (as sd_notify does).
        return b"\0" + raw[1:].encode()
    if not raw.startswith("/"):
        raise NotifyError("NOTIFY_SOCKET", f"must be an absolute path or '@name' (got {raw!r})")
    return raw


class Notifier:
    """Sends state changes to the service manager; a no-op when there is none."""

    def __init__(self, notify_socket: str | None) -> None:
        self._address = _address(notify_socket) if notify_socket else None
        self._sock: socket.socket | None = None
        self._failing = False

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None, *, unset: bool = False) -> Notifier:
        """Read ``NOTIFY_SOCKET``; ``unset`` removes it so child processes cannot notify for us."""
        env = os.environ if environ is None else environ
        value = env.get("NOTIFY_SOCKET") or None
        if unset and environ is None:
            os.environ.pop("NOTIFY_SOCKET", None)
        return cls(value)

    @property
    def enabled(self) -> bool:
        return self._address is not None

    def notify(self, *assignments: str) -> bool:
        """Send ``KEY=VALUE`` lines in one datagram; ``True`` if it was sent."""
        if self._address is None or not assignments:
            return False
        for a in assignments:
            if "=" not in a or "\n" in a:
                raise ValueError(f"not a single KEY=VALUE assignment: {a!r}")
        payload = "\n".join(assignments).encode()
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                self._sock.setblocking(False)
            self._sock.sendto(payload, self._address)
        except OSError as e:
            self._close_socket()
            if not self._failing:
                _log.warning("sd_notify to %r failed: %s", self._address, e)
            else:
                _log.debug("sd_notify still failing: %s", e)
            self._failing = True
            return False
        if self._failing:
            _log.info("sd_notify recovered")
            self._failing = False
        return True

    def ready(self, status: str | None = None) -> bool:
        return self.notify("READY=1", *self._status_line(status))

    def reloading(self, status: str | None = None) -> bool:
        # MONOTONIC_USEC must be CLOCK_MONOTONIC of this host (systemd compares it with its own
        # clock to order the reload against READY), never the agent's injected clock.
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.notify("RELOADING=1", f"MONOTONIC_USEC={usec}", *self._status_line(status))

    def stopping(self, status: str | None = None) -> bool:
        return self.notify("STOPPING=1", *self._status_line(status))

    def watchdog_ping(self) -> bool:
        return self.notify("WATCHDOG=1")

    def watchdog_trigger(self) -> bool:
        """Ask systemd to act as if the watchdog had expired (a hung state detected by us)."""
        return self.notify("WATCHDOG=trigger")

    def status(self, text: str) -> bool:
        return self.notify(*self._status_line(text))

    @staticmethod
    def _status_line(text: str | None) -> tuple[str, ...]:
        if text is None:
            return ()
        flat = " ".join(text.split())[:MAX_STATUS_CHARS]
        return (f"STATUS={flat}",)

    def _close_socket(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def close(self) -> None:
        self._close_socket()
