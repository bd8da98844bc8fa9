"""Small JSON documents the agent keeps in its state directory between runs.

A write goes to a temporary file in the same directory, is flushed to disk, and then renamed
over the old one (``os.replace`` is atomic on POSIX), and the directory entry is flushed too:
after a power cut the file holds either the old document or the new one, never half of each.
A file that cannot be read or parsed raises :class:`StateFileError` naming the file, so the
caller can report it and start from its defaults instead of crashing.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from agent.errors import HemsError

# A settings or counter document is a few hundred bytes; anything far larger is not ours.
MAX_BYTES = 64 * 1024


class StateFileError(HemsError):
    """A state file exists but cannot be used; ``path`` names it, the message says why."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path.name}: {reason}")
        self.path = path
        self.reason = reason


def write_json(path: Path, doc: dict[str, Any]) -> None:
    """Replace ``path`` with ``doc`` atomically (blocking: run it in a thread on the event loop)."""
    data = json.dumps(doc, indent=1, sort_keys=True, allow_nan=False).encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_json(path: Path) -> dict[str, Any] | None:
    """The document in ``path``; ``None`` when there is no such file (first start).

    Raises :class:`StateFileError` for a file that is unreadable, too large, not UTF-8 JSON,
    or not a JSON object.
    """
    try:
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise StateFileError(path, f"cannot be read ({e.strerror or e})") from e
    if len(data) > MAX_BYTES:
        raise StateFileError(path, f"larger than {MAX_BYTES} bytes")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise StateFileError(path, f"not valid UTF-8 JSON ({e})") from e
    if not isinstance(doc, dict):
        raise StateFileError(path, f"must hold a JSON object (found {type(doc).__name__})")
    return doc
