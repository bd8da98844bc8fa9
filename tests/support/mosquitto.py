"""A real Mosquitto broker for tests, on a free loopback port.

``MosquittoBroker`` writes a config file into a temporary directory, runs ``/usr/sbin/mosquitto -c``
directly (never the system service), and waits until the port accepts TCP connections. It can be
stopped and started again on the same port (the broker-restart fault), and has variants with a
password file (``users=``) and with TLS (``tls=True``: a throwaway CA and server certificate made
with the ``openssl`` command line, the CA file exposed as ``ca_file`` for clients).

Usage::

    with MosquittoBroker(tmp_path) as broker:
        ...  # broker.host, broker.port
        broker.restart()

If the binary is missing, the error says how to install it: tests never skip for want of it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

MOSQUITTO_BIN = Path("/usr/sbin/mosquitto")
HOST = "127.0.0.1"
# A broker on loopback is up within a few hundred ms; ten seconds only guards a loaded CI box.
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0


class BrokerError(RuntimeError):
    """The test broker could not be started or stopped."""


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def _run(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=30, check=False)
    if proc.returncode != 0:
        raise BrokerError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")


def make_tls_files(directory: Path, host: str = HOST) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for ``host`` signed by it: (ca, cert, key)."""
    if shutil.which("openssl") is None:
        raise BrokerError("openssl not found: apt-get install -y openssl")
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_crt = directory / "ca.key", directory / "ca.crt"
    key, csr, crt = directory / "server.key", directory / "server.csr", directory / "server.crt"
    ext = directory / "server.ext"
    ext.write_text(f"subjectAltName=IP:{host},DNS:localhost\nbasicConstraints=CA:FALSE\n")
    _run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key),
         "-out", str(ca_crt), "-days", "2", "-subj", "/CN=hems test CA"],
        directory,
    )  # fmt: skip
    _run(
        ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
         "-subj", f"/CN={host}"],
        directory,
    )  # fmt: skip
    _run(
        ["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key),
         "-CAcreateserial", "-out", str(crt), "-days", "2", "-extfile", str(ext)],
        directory,
    )  # fmt: skip
    return ca_crt, crt, key


class MosquittoBroker:
    """One Mosquitto process with its own config, port and log in ``directory``."""

    def __init__(
        self,
        directory: Path,
        *,
        users: dict[str, str] | None = None,
        tls: bool = False,
        port: int | None = None,
    ) -> None:
        if not MOSQUITTO_BIN.exists():
            raise BrokerError(f"{MOSQUITTO_BIN} not found: apt-get install -y mosquitto")
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.host = HOST
        self.port = port if port is not None else free_port()
        self.tls = tls
        self.ca_file: Path | None = None
        self.log_file = directory / "mosquitto.log"
        self.config_file = directory / "mosquitto.conf"
        self._proc: subprocess.Popen[bytes] | None = None
        self._write_config(users)

    def _write_config(self, users: dict[str, str] | None) -> None:
        lines = [
            f"listener {self.port} {self.host}",
            "persistence false",
            f"log_dest file {self.log_file}",
            "log_type all",
            "connection_messages true",
        ]
        if os.geteuid() == 0:
            # Mosquitto started as root drops to the "mosquitto" user, which cannot read files in
            # a root-owned temporary directory: stay the user who runs the tests.
            lines.append("user root")
        if users:
            pw = self.directory / "passwd"
            pw.write_text("")
            for user, password in users.items():
                _run(["mosquitto_passwd", "-b", str(pw), user, password], self.directory)
            lines += ["allow_anonymous false", f"password_file {pw}"]
        else:
            lines.append("allow_anonymous true")
        if self.tls:
            ca, crt, key = make_tls_files(self.directory / "tls", self.host)
            self.ca_file = ca
            lines += [f"cafile {ca}", f"certfile {crt}", f"keyfile {key}", "tls_version tlsv1.2"]
        self.config_file.write_text("\n".join(lines) + "\n")

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        if self.running:
            return
        self._proc = subprocess.Popen(
            [str(MOSQUITTO_BIN), "-c", str(self.config_file)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                raise BrokerError(f"mosquitto exited with {self._proc.returncode}: {err}{self.log_tail()}")
            with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), timeout=0.2):
                return
            time.sleep(0.05)
        self.stop()
        raise BrokerError(f"mosquitto did not accept connections on {self.port}: {self.log_tail()}")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=STOP_TIMEOUT_S)
        if proc.stderr is not None:
            proc.stderr.close()

    def restart(self, down_s: float = 0.0) -> None:
        """Stop, stay down ``down_s`` seconds, start again on the same port."""
        self.stop()
        if down_s > 0:
            time.sleep(down_s)
        self.start()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> MosquittoBroker:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def persistent_broker(directory: Path) -> MosquittoBroker:
    """A broker whose sessions and queued messages survive a restart, as on a production broker."""
    broker = MosquittoBroker(directory)
    store = directory / "store"
    store.mkdir(exist_ok=True)
    text = broker.config_file.read_text().replace(
        "persistence false", f"persistence true\npersistence_location {store}/"
    )
    broker.config_file.write_text(text)
    return broker
