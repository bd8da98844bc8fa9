"""Text from outside, as logs and labels show it: one printable, bounded line."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.logsafe import clip


@settings(max_examples=300)
@given(text=st.text(), limit=st.integers(min_value=1, max_value=200))
def test_any_text_becomes_one_printable_bounded_line(text: str, limit: int) -> None:
    shown = clip(text, limit)
    assert shown.isprintable()
    shown.encode("utf-8")  # no lone surrogate left to break a log handler
    # Each kept character takes at most 10 (\\Uxxxxxxxx); the note of the length follows.
    assert len(shown) <= 10 * limit + len(f"...({len(text)} chars)")


def test_escapes_name_what_was_there() -> None:
    assert clip("line\nforged \x1b[2J \\ \udc80 é") == "line\\x0aforged \\x1b[2J \\\\ \\udc80 é"
    assert clip("k" * 10, 4) == "kkkk...(10 chars)"
    assert clip(42) == "42"
