"""A real OpenADR 2.0b VTN (openleadr's ``OpenADRServer``) in its own process, for the VEN's tests.

Run as a script (``python vtn_process.py PORT POLL_S [CERT_DIR]``), it serves the VTN on
127.0.0.1:PORT, takes commands as JSON lines on stdin (``add_event``, ``cancel_event``) and tells
what it saw as JSON lines on stdout, each prefixed with ``VTN`` (openleadr prints banners there
too): ``ready``, ``registered``, ``report_offered``, ``report``, ``opt``. :class:`VtnProcess`
drives it from a test.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

PREFIX = "VTN "
VTN_ID = "TEST_VTN"
PATH = "/OpenADR2/Simple/2.0b"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the VTN side (the subprocess) -----------------------------------------------------------------


def _emit(**doc: Any) -> None:
    print(PREFIX + json.dumps(doc, default=str), flush=True)


async def _serve(port: int, poll_s: float, cert_dir: Path | None) -> None:
    from openleadr import OpenADRServer

    tls: dict[str, Any] = {}
    if cert_dir is not None:
        tls = {
            "http_cert": str(cert_dir / "vtn.crt"),
            "http_key": str(cert_dir / "vtn.key"),
            "http_ca_file": str(cert_dir / "ca.crt"),
            "cert": str(cert_dir / "vtn.crt"),
            "key": str(cert_dir / "vtn.key"),
            # The VEN's messages are signed with its certificate; the VTN checks them by fingerprint.
            "ven_lookup": _ven_lookup(cert_dir),
        }
    server = OpenADRServer(
        vtn_id=VTN_ID,
        http_port=port,
        http_host="127.0.0.1",
        requested_poll_freq=timedelta(seconds=poll_s),
        show_fingerprint=False,
        **tls,
    )

    async def on_create_party_registration(info: dict[str, Any]) -> tuple[str, str]:
        ven_id = f"ven-{info['ven_name']}"
        _emit(kind="registered", ven_name=info["ven_name"], ven_id=ven_id)
        return ven_id, f"reg-{info['ven_name']}"

    async def on_register_report(
        *,
        ven_id: str,
        resource_id: str,
        measurement: str,
        unit: str,
        scale: str,
        min_sampling_interval: timedelta,
        max_sampling_interval: timedelta,
    ) -> tuple[Callable[[Any], Any], timedelta]:
        _emit(kind="report_offered", resource_id=resource_id, measurement=measurement, unit=unit)

        async def on_data(data: list[tuple[datetime, float]]) -> None:
            _emit(kind="report", resource_id=resource_id, values=[[t.isoformat(), v] for t, v in data])

        return on_data, min_sampling_interval

    server.add_handler("on_create_party_registration", on_create_party_registration)
    server.add_handler("on_register_report", on_register_report)
    await server.run_async()
    _emit(kind="ready", port=port)
    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            break
        cmd = json.loads(line)
        if cmd["cmd"] == "add_event":
            _add_event(server, cmd)
        elif cmd["cmd"] == "cancel_event":
            server.cancel_event(cmd["ven_id"], cmd["event_id"])
            _emit(kind="cancelled", event_id=cmd["event_id"])
    await server.stop()


def _ven_lookup(cert_dir: Path) -> Callable[[str], dict[str, Any]]:
    from openleadr import utils

    fingerprint = utils.certificate_fingerprint((cert_dir / "ven.crt").read_bytes())

    def lookup(ven_id: str) -> dict[str, Any]:
        name = ven_id.removeprefix("ven-")
        return {
            "ven_id": ven_id,
            "ven_name": name,
            "fingerprint": fingerprint,
            "registration_id": f"reg-{name}",
        }

    return lookup


def _add_event(server: Any, cmd: dict[str, Any]) -> None:
    from openleadr import objects

    intervals = [
        {
            "dtstart": datetime.fromisoformat(start),
            "duration": timedelta(seconds=seconds),
            "signal_payload": payload,
        }
        for start, seconds, payload in cmd["intervals"]
    ]
    measurement = None
    if cmd.get("unit"):
        measurement = objects.Measurement(
            name="currencyPerKWh", description="currencyPerKWh", unit=cmd["unit"], scale="none"
        )
    signal = objects.EventSignal(
        intervals=intervals,
        signal_name=cmd["signal_name"],
        signal_type=cmd["signal_type"],
        signal_id=f"{cmd['event_id']}-signal",
        measurement=measurement,
    )
    event = objects.Event(
        event_descriptor=objects.EventDescriptor(
            event_id=cmd["event_id"],
            modification_number=0,
            market_context=cmd.get("market_context", "oadr://test.utility/programs/cpp"),
            event_status="far",
            priority=cmd.get("priority", 0),
            created_date_time=datetime.fromisoformat(cmd.get("created", intervals[0]["dtstart"].isoformat())),
        ),
        event_signals=[signal],
        targets=[{"ven_id": cmd["ven_id"]}],
        active_period=objects.ActivePeriod(
            dtstart=intervals[0]["dtstart"], duration=sum((i["duration"] for i in intervals), timedelta())
        ),
    )

    def on_opt(ven_id: str, event_id: str, opt_type: str) -> None:
        _emit(kind="opt", ven_id=ven_id, event_id=event_id, opt_type=opt_type)

    server.add_raw_event(cmd["ven_id"], event, callback=on_opt)
    _emit(kind="event_added", event_id=cmd["event_id"])


# -- the test side ---------------------------------------------------------------------------------


class VtnProcess:
    """Start, command and watch the VTN subprocess; every wait is bounded."""

    def __init__(self, port: int, *, poll_s: float = 1.0, cert_dir: Path | None = None) -> None:
        self.port = port
        self.poll_s = poll_s
        self.cert_dir = cert_dir
        self.seen: list[dict[str, Any]] = []
        self._proc: asyncio.subprocess.Process | None = None
        self._stderr: bytes = b""

    @property
    def url(self) -> str:
        scheme = "https" if self.cert_dir is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}{PATH}"

    async def start(self, timeout_s: float = 30.0) -> None:
        args = [sys.executable, __file__, str(self.port), str(self.poll_s)]
        if self.cert_dir is not None:
            args.append(str(self.cert_dir))
        self._proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await self.expect("ready", timeout_s=timeout_s)

    async def send(self, **cmd: Any) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write((json.dumps(cmd) + "\n").encode())
        await asyncio.wait_for(self._proc.stdin.drain(), 5.0)

    async def expect(self, kind: str, timeout_s: float = 30.0, **fields: Any) -> dict[str, Any]:
        """The first message of ``kind`` with these fields, seen before or arriving in time."""

        def matches(doc: dict[str, Any]) -> bool:
            return doc.get("kind") == kind and all(doc.get(k) == v for k, v in fields.items())

        for doc in self.seen:
            if matches(doc):
                return doc
        assert self._proc is not None and self._proc.stdout is not None
        async with asyncio.timeout(timeout_s):
            while True:
                line = (await self._proc.stdout.readline()).decode()
                if not line:
                    raise AssertionError(f"the VTN ended before sending {kind} {fields}; saw {self.seen}")
                if not line.startswith(PREFIX):
                    continue
                got: dict[str, Any] = json.loads(line[len(PREFIX) :])
                self.seen.append(got)
                if matches(got):
                    return got

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        proc.kill()
        with contextlib.suppress(ProcessLookupError):
            await asyncio.wait_for(proc.wait(), 10.0)


if __name__ == "__main__":
    cert_dir = Path(sys.argv[3]) if len(sys.argv) > 3 else None
    asyncio.run(_serve(int(sys.argv[1]), float(sys.argv[2]), cert_dir))
