"""The tariff benchmark runs over every example contract (its numbers are read from its JSON)."""

from __future__ import annotations

from pathlib import Path

from bench import tariff_prices

EXAMPLES = Path(__file__).parents[2] / "configs" / "examples"


def test_bench_covers_every_example_for_a_day_and_a_week() -> None:
    out = tariff_prices.run(repeats=1)
    assert set(out["contracts"]) == {p.stem for p in EXAMPLES.glob("*.yaml")}
    assert set(out["contracts"]) >= {
        "at_dynamic_awattar",
        "de_dynamic_entsoe",
        "flat_feed_in",
        "three_period",
        "uk_agile_octopus",
        "us_tou",
    }
    for row in out["contracts"].values():
        # 24 h and 168 h of elapsed time at 15 minutes, whatever the zone's DST does in that week.
        assert (row["day_intervals"], row["week_intervals"]) == (96, 672)
        assert row["week_ms_median"] > 0
