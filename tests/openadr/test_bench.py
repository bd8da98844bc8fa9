"""The OpenADR program benchmark runs and prices every interval of its horizons."""

from __future__ import annotations

from bench import openadr_program


def test_bench_prices_a_day_and_a_week_over_a_week_of_events() -> None:
    out = openadr_program.run(repeats=1)
    assert out["spans"] == 7 * 96
    # 24 h and 168 h of elapsed time at 15 minutes, though the week holds Berlin's DST change.
    assert (out["day_intervals"], out["week_intervals"]) == (96, 672)
    assert out["week_ms_median"] > 0
