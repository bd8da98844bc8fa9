"""Writing data files and scenarios for the scenario tests (all under pytest's tmp_path)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

import yaml


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    lines = [",".join(header)] + [",".join(str(c) for c in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def instants(start: datetime, step: timedelta, n: int, tz: tzinfo) -> list[str]:
    """``n`` interval starts ``step`` apart in absolute time, written with ``tz``'s offsets."""
    t0 = start.astimezone(UTC)  # arithmetic in UTC: Python adds wall-clock time within one zone
    return [(t0 + k * step).astimezone(tz).isoformat() for k in range(n)]


def write_yaml(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def plan_doc(**extra: Any) -> dict[str, Any]:
    """A minimal ``hems plan`` scenario over one Berlin day at 15 minutes (data: plain numbers)."""
    doc: dict[str, Any] = {
        "site": {"tz": "Europe/Berlin"},
        "start": "2015-06-01T00:00:00+02:00",
        "step": "PT15M",
        "horizon": 8,
        "data": {"forward_price_per_kwh": 0.05, "base_load_kw": 0.4},
        "grid": {"import_limit_kw": 17, "export_limit_kw": 10},
    }
    return doc | extra
