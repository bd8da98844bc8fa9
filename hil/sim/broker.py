"""The MQTT broker of a simulation: Mosquitto (the Debian package ``mosquitto``).

``make_broker(directory)`` returns a broker on a free loopback port (or on ``host``/``port``);
``start`` runs Mosquitto from a generated config in ``directory`` as a child process (never the
system service), and it can be restarted on the same port (the broker-restart fault). Without
Mosquitto installed :class:`MosquittoMissing` says the one command that installs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path
from typing import Protocol

from hil.errors import HilError
from hil.rig_settings import LOOPBACK, free_port

# A broker on loopback is up within a few hundred ms; ten seconds only guards a loaded machine.
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
# Debian puts the daemon in /usr/sbin, which is not on an ordinary user's PATH.
SBIN_MOSQUITTO = Path("/usr/sbin/mosquitto")
INSTALL_HINT = "sudo apt-get install -y mosquitto"


class BrokerError(HilError):
    """The simulation's broker could not be started or stopped."""


class MosquittoMissing(BrokerError):
    """The ``mosquitto`` program is not installed on this machine."""

    def __init__(self) -> None:
        super().__init__(f"the MQTT broker mosquitto is not installed; install it with: {INSTALL_HINT}")


class Broker(Protocol):
    host: str
    port: int
    kind: str

    async def start(self) -> None: ...
    async def stop(self) -> None: ...


def mosquitto_binary() -> str:
    """The installed ``mosquitto`` program; :class:`MosquittoMissing` when there is none."""
    found = shutil.which("mosquitto")
    if found is not None:
        return found
    if SBIN_MOSQUITTO.exists():
        return str(SBIN_MOSQUITTO)
    raise MosquittoMissing()


class MosquittoBroker:
    kind = "mosquitto"

    def __init__(self, binary: str, directory: Path, *, host: str = LOOPBACK, port: int = 0) -> None:
        self.binary = binary
        self.host = host
        self.port = port or free_port(host)
        directory.mkdir(parents=True, exist_ok=True)
        self.config_file = directory / "mosquitto.conf"
        self.log_file = directory / "mosquitto.log"
        lines = [
            f"listener {self.port} {host}",
            "allow_anonymous true",
            # The retailer link keeps persistent sessions; with persistence the queued QoS 1
            # messages survive the broker-restart fault, as on a production broker.
            "persistence true",
            f"persistence_location {directory}/",
            "autosave_interval 1",
            f"log_dest file {self.log_file}",
            "log_type error",
            "log_type warning",
            "max_queued_messages 100000",
        ]
        if os.geteuid() == 0:
            # Started as root Mosquitto drops to its own user, which cannot write this directory.
            lines.append("user root")
        self.config_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self._proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        self._proc = self._spawn()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT_S
        while loop.time() < deadline:
            if self._proc.poll() is not None:
                raise BrokerError(f"mosquitto exited with {self._proc.returncode}; see {self.log_file}")
            if await _accepts(self.host, self.port):
                return
            await asyncio.sleep(0.05)
        await self.stop()
        raise BrokerError(f"mosquitto did not accept connections on {self.host}:{self.port}")

    def _spawn(self) -> subprocess.Popen[bytes]:
        cmd = [self.binary, "-c", str(self.config_file)]
        return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.to_thread(proc.wait), STOP_TIMEOUT_S)
        except TimeoutError:
            proc.kill()
            await asyncio.to_thread(proc.wait)


async def _accepts(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 0.5)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


def make_broker(
    directory: Path, *, host: str = LOOPBACK, port: int = 0, prefer: str = "auto"
) -> MosquittoBroker:
    """Mosquitto, configured in ``directory``; :class:`MosquittoMissing` when it is not installed.

    ``prefer`` names the broker: ``"auto"`` and ``"mosquitto"`` both mean Mosquitto, the only one.
    """
    if prefer not in ("auto", "mosquitto"):
        raise BrokerError(f"broker {prefer!r} is unknown; simulations run on mosquitto")
    return MosquittoBroker(mosquitto_binary(), directory, host=host, port=port)


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        return s.connect_ex((host, port)) == 0
