"""Reading a data file: a CSV with a ``time`` column of ISO 8601 interval starts with offsets.

Rows must be strictly increasing in time (a duplicate or an earlier time is refused with its
row). Values are read per column on demand; an empty cell is a *missing* value (``None``) left
for the series' fill rule to judge, anything else that is not a finite number is an error naming
file, row and column. Tables are cached by path and modification time, so a year read for the
plant and for the planner is parsed once.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from agent.scenario.errors import ScenarioError

TIME = "time"
FIRST_DATA_ROW = 2  # the header is row 1, as a spreadsheet shows the file


@dataclass(frozen=True)
class CsvTable:
    path: Path
    header: tuple[str, ...]
    times_s: tuple[float, ...]  # POSIX seconds of each row's interval start
    offsets_s: tuple[float, ...]  # each row's UTC offset as written
    cells: tuple[tuple[str, ...], ...]  # the rows' raw cells, without the time

    def column(self, name: str, key: str) -> tuple[float | None, ...]:
        """The column ``name`` as numbers, ``None`` for an empty cell."""
        if name not in self.header or name == TIME:
            columns = ", ".join(h for h in self.header if h != TIME)
            raise ScenarioError(
                key, f"no column {name!r}; the file has: {columns}", file=self.path, row=1, column=name
            )
        i = self.header.index(name) - 1
        out: list[float | None] = []
        for n, row in enumerate(self.cells):
            text = row[i].strip()
            if text == "":
                out.append(None)
                continue
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                raise ScenarioError(
                    key, f"not a number: {text!r}", file=self.path, row=n + FIRST_DATA_ROW, column=name
                )
            out.append(value)
        return tuple(out)


def read_table(path: Path, key: str) -> CsvTable:
    """The table at ``path``; errors carry ``key`` (the scenario key that named the file)."""
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as e:
        raise ScenarioError(key, f"cannot read {path}: {e.strerror}") from e
    try:
        return _read(path, mtime)
    except ScenarioError as e:
        raise ScenarioError(key, e.message, file=e.file, row=e.row, column=e.column) from e


@lru_cache(maxsize=16)
def _read(path: Path, _mtime_ns: int) -> CsvTable:
    key = "data"
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ScenarioError(key, f"cannot read {path}: {e}") from e
    if not rows or not rows[0] or rows[0][0].strip() != TIME:
        raise ScenarioError(key, "the first column must be 'time'", file=path, row=1, column=TIME)
    header = tuple(h.strip() for h in rows[0])
    times: list[float] = []
    offsets: list[float] = []
    cells: list[tuple[str, ...]] = []
    for n, row in enumerate(rows[1:], start=FIRST_DATA_ROW):
        if not row:
            continue  # a blank line (a trailing newline too many)
        if len(row) != len(header):
            raise ScenarioError(
                key, f"has {len(row)} cells, the header {len(header)}", file=path, row=n, column=None
            )
        try:
            at = datetime.fromisoformat(row[0].strip())
        except ValueError:
            raise ScenarioError(
                key, f"not an ISO 8601 time: {row[0]!r}", file=path, row=n, column=TIME
            ) from None
        if at.tzinfo is None:
            raise ScenarioError(key, f"{row[0]!r} has no UTC offset", file=path, row=n, column=TIME)
        t = at.timestamp()
        if times and t <= times[-1]:
            what = "repeats the previous row's time" if t == times[-1] else "is earlier than the row before"
            raise ScenarioError(key, f"{row[0]} {what}", file=path, row=n, column=TIME)
        times.append(t)
        offsets.append(at.utcoffset().total_seconds())  # type: ignore[union-attr]
        cells.append(tuple(row[1:]))
    if not times:
        raise ScenarioError(key, "has no rows of data", file=path)
    return CsvTable(path, header, tuple(times), tuple(offsets), tuple(cells))
