"""Unit rates in the style of Agile Octopus, made from the recorded day-ahead prices (a stand-in).

The project has no recorded British prices. To run the UK Agile-style example contract against
recorded prices all the same, this derives its unit rates from the 2015 DE-AT-LU day-ahead
prices by the example algorithm Octopus Energy published for Agile ("Agile pricing explained"):

    rate = min(2.20 x W + P, CAP)

where W is the wholesale price in pence per kWh, P the peak premium of 12 p between 16:00 and
19:00 UK time (0 otherwise) and the cap 100 p (Octopus caps Agile at 1 GBP per kWh; these
prices never reach it). W is the continental price of the same hour, converted at an assumed
``GBP_PER_EUR`` (not a quoted rate). Negative wholesale prices give negative rates, as Agile's do.
Rates are before VAT, in GBP per kWh, hourly (each half hour of an hour has the hour's rate).

``python -m hil.sim.agile_proxy`` writes ``scenarios/data/agile_proxy_2015.csv`` from
``scenarios/data/prices_de_2015.csv``; ``tests/sim/test_agile_proxy.py`` checks rows by hand and
that the shipped file is what this writes.
"""

from __future__ import annotations

import csv
import io
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

DATA = Path(__file__).parents[2] / "scenarios" / "data"
SOURCE = DATA / "prices_de_2015.csv"
TARGET = DATA / "agile_proxy_2015.csv"
LONDON = ZoneInfo("Europe/London")
GBP_PER_EUR = 0.73  # an assumption for the conversion, about the 2015 level
MULTIPLIER = 2.20
PEAK_PREMIUM_P = 12.0  # p/kWh, 16:00-19:00 UK time
PEAK_HOURS = range(16, 19)
CAP_P = 100.0  # p/kWh


def unit_rate_gbp_per_kwh(wholesale_eur_per_mwh: float, at: datetime) -> float:
    """The stand-in Agile rate before VAT (GBP/kWh) for the hour starting ``at``."""
    wholesale_p = wholesale_eur_per_mwh * GBP_PER_EUR / 10.0  # EUR/MWh -> p/kWh
    premium_p = PEAK_PREMIUM_P if at.astimezone(LONDON).hour in PEAK_HOURS else 0.0
    return min(MULTIPLIER * wholesale_p + premium_p, CAP_P) / 100.0


def derive(source_csv: str) -> str:
    """The stand-in rates file for a day-ahead prices file (``time,price_eur_per_mwh``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["time", "unit_rate_gbp_per_kwh"])
    for row in csv.DictReader(io.StringIO(source_csv)):
        at = datetime.fromisoformat(row["time"]).astimezone(LONDON)
        price = row["price_eur_per_mwh"]
        # A missing hour stays missing (the scenario says how to fill it).
        rate = "" if price == "" else f"{unit_rate_gbp_per_kwh(float(price), at):.6f}"
        writer.writerow([at.isoformat(), rate])
    return out.getvalue()


def main() -> int:
    TARGET.write_text(derive(SOURCE.read_text()))
    print(f"wrote {TARGET}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
