"""A pseudo-terminal pair from ``socat``: two serial ports wired to each other.

``socat -d -d pty,raw,echo=0 pty,raw,echo=0`` prints the two device names on stderr; whatever
is written to one comes out of the other, like a null-modem cable between two RS-485 adapters.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

_PTY_RE = re.compile(rb"PTY is (\S+)")


@contextmanager
def pty_pair(timeout_s: float = 5.0) -> Iterator[tuple[str, str]]:
    exe = shutil.which("socat")
    if exe is None:
        raise RuntimeError("socat is not installed (apt-get install -y socat)")
    proc = subprocess.Popen(
        [exe, "-d", "-d", "pty,raw,echo=0", "pty,raw,echo=0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        names: list[str] = []
        deadline = time.monotonic() + timeout_s
        assert proc.stderr is not None
        while len(names) < 2:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"socat did not report two ptys (got {names})")
            line = proc.stderr.readline()
            m = _PTY_RE.search(line)
            if m:
                names.append(m.group(1).decode())
        yield names[0], names[1]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
