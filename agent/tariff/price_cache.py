"""The fetched day-ahead prices, kept in the state directory so a restart does not lose them.

One JSON document per service and zone (``prices-entsoe-10Y1001A1001A82H.json``), written
atomically (agent/runtime/state_file.py). Prices are stored as runs of consecutive intervals of
one step, as decimal strings per kWh::

    {"version": 1, "service": "entsoe:10Y1001A1001A82H", "currency": "EUR",
     "runs": [{"start": "2026-03-28T23:00:00+00:00", "step": "PT15M", "prices_per_kwh": ["0.0812", ...]}]}

Only firm (published) prices are stored; estimates are made afresh from them.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from agent.market.intervals import Duration
from agent.runtime.state_file import StateFileError, read_json, write_json
from agent.tariff.sources import MarketPrice

VERSION = 1


def cache_path(state_dir: Path, service: str) -> Path:
    return state_dir / f"prices-{re.sub(r'[^A-Za-z0-9-]+', '-', service)}.json"


def encode(service: str, currency: str, prices: list[MarketPrice]) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    end = None
    for p in sorted(prices, key=lambda p: p.start):
        if runs and p.start == end and runs[-1]["step"] == p.duration.value:
            runs[-1]["prices_per_kwh"].append(str(p.price_per_kwh))
        else:
            runs.append(
                {
                    "start": p.start.isoformat(),
                    "step": p.duration.value,
                    "prices_per_kwh": [str(p.price_per_kwh)],
                }
            )
        end = p.start + p.duration.nominal
    return {"version": VERSION, "service": service, "currency": currency, "runs": runs}


def decode(path: Path, doc: dict[str, Any], service: str, currency: str) -> list[MarketPrice]:
    """The prices of ``doc``; an empty list for another service's or currency's cache.

    Raises :class:`StateFileError` naming the file for a document of the wrong shape.
    """
    if doc.get("service") != service or doc.get("currency") != currency:
        return []  # the zone or the currency changed: those prices are not this home's
    if doc.get("version") != VERSION or not isinstance(doc.get("runs"), list):
        raise StateFileError(path, f"expected version {VERSION} with a list of runs")
    out: list[MarketPrice] = []
    for i, run in enumerate(doc["runs"]):
        try:
            start = datetime.fromisoformat(run["start"])
            step = Duration(run["step"])
            values = [Decimal(v) for v in run["prices_per_kwh"]]
        except (KeyError, TypeError, ValueError, InvalidOperation) as e:
            raise StateFileError(path, f"runs[{i}] is malformed ({type(e).__name__}: {e})") from e
        if start.tzinfo is None or step not in (Duration.PT15M, Duration.PT1H):
            raise StateFileError(path, f"runs[{i}]: start needs an offset and step must be PT15M or PT1H")
        out.extend(
            MarketPrice(start + k * step.nominal, step, v, currency, "firm") for k, v in enumerate(values)
        )
    return out


def load(path: Path, service: str, currency: str) -> list[MarketPrice]:
    """Blocking: run it in a thread. ``[]`` on first start; raises :class:`StateFileError`."""
    doc = read_json(path)
    return [] if doc is None else decode(path, doc, service, currency)


def save(path: Path, service: str, currency: str, prices: list[MarketPrice]) -> None:
    """Blocking: run it in a thread. Atomic: the old cache or the new one survives a power cut."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, encode(service, currency, prices))
