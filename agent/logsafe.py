"""Showing text that came from outside (a retailer's message, a device) in logs and labels.

What a peer sends may hold a newline (which would forge a log line), terminal escapes, lone
surrogates (which make the log handler itself fail) or megabytes of key. :func:`clip` turns any
such text into one bounded line of printable characters: anything unprintable and the backslash
are written as escapes, and text past ``limit`` characters is cut with a note of the full length.
"""

from __future__ import annotations

# Long enough for any honest id or key path (ids are at most 128 characters).
DEFAULT_LIMIT = 160


def _escape(c: str) -> str:
    if c == "\\":
        return "\\\\"
    code = ord(c)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def clip(text: object, limit: int = DEFAULT_LIMIT) -> str:
    """``text`` (``str()`` of anything else) as one printable line of at most about ``limit`` chars."""
    s = text if isinstance(text, str) else str(text)
    head = s[:limit]
    shown = "".join(c if c.isprintable() and c != "\\" else _escape(c) for c in head)
    if len(s) > limit:
        shown += f"...({len(s)} chars)"
    return shown
