"""The base-load model's answers for windows asked before, kept until the history under them changes.

Consecutive plans ask for nearly the same windows (a 36-hour horizon moves by one interval), and
each answer looks back at the same wall time over several weeks: worked out afresh, that was most
of a forecast's cost. A window's answer depends only on the history inside its lookback windows,
so it stays right until a sample lands there. Each answer keeps the span of time it read:

* ``weekly``: the same wall time 7 to ``7 * weeks`` days earlier (a weekly answer never falls back
  to daily: more history can only add to what it found);
* ``daily`` or none (""): the weekly lookbacks as well as the last seven days (more history
  could turn either into a weekly answer).

An hour either side covers the wall-clock shift across a DST change. A sample stored in that span
(or replacing one there) drops the answer. A history changed behind the memo's back (its version
moved by more than the one sample it was told of) drops everything.

A kept answer is the one worked out when it was first asked for. Worked out again later it may
differ in the last bits (some 1e-13 kW): the history reads window means from cumulative sums,
which round differently once its oldest samples are dropped (tests/forecast bound the difference
at 1e-12 kW over forty days of quarter hours; the method and source are always the same).
"""

from __future__ import annotations

from agent.forecast.history import LoadHistory

_DAY_S = 86_400.0
_DST_S = 3_600.0
# Answers for windows this long before the newest change are not asked for again (the horizon
# lies ahead; the blend looks back a quarter of an hour).
_KEEP_BEHIND_S = _DAY_S


class WindowMemo:
    def __init__(self, weeks: int) -> None:
        self._weeks = weeks
        # (start_s, span_s) -> (value, method, first second read, last second read)
        self._known: dict[tuple[float, float], tuple[float, str, float, float]] = {}
        self._version = 0

    def __len__(self) -> int:
        return len(self._known)

    def get(self, key: tuple[float, float]) -> tuple[float, str] | None:
        known = self._known.get(key)
        return None if known is None else (known[0], known[1])

    def put(self, key: tuple[float, float], value: float, method: str) -> None:
        start_s, span_s = key
        nearest_days = 7.0 if method == "weekly" else 1.0
        read_from_s = start_s - 7.0 * self._weeks * _DAY_S - _DST_S
        read_to_s = start_s - nearest_days * _DAY_S + span_s + _DST_S
        self._known[key] = (value, method, read_from_s, read_to_s)

    def check(self, history: LoadHistory) -> None:
        """Forget everything if ``history`` changed without :meth:`changed` being told."""
        if history.version != self._version:
            self._known.clear()
            self._version = history.version

    def changed(self, history: LoadHistory, version_before: int) -> None:
        """``history`` just stored one sample (its version was ``version_before``)."""
        change = history.last_change
        if version_before != self._version or change is None:
            self._known.clear()
        else:
            a, b = change
            self._known = {
                key: known
                for key, known in self._known.items()
                if not (known[2] < b and a < known[3]) and key[0] >= a - _KEEP_BEHIND_S
            }
        self._version = history.version
