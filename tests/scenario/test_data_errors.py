"""Bad data files are refused naming the file, row (the header is row 1) and column; a bad key by
its path. Nothing is guessed: an empty value or a gap the run needs is an error unless the
series asks for the documented fill."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.scenario import ScenarioError, parse_spec
from agent.scenario.plan_inputs import plan_problem
from tests.scenario.helpers import instants, plan_doc, write_csv

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2015, 6, 1, tzinfo=BERLIN)
Q = timedelta(minutes=15)


def load_file(tmp_path: Path, values: list[object], times: list[str] | None = None) -> Path:
    times = times or instants(T0, Q, len(values), BERLIN)
    return write_csv(tmp_path / "load.csv", ["time", "load_kw"], zip(times, values, strict=True))


def plan_with_load(tmp_path: Path, horizon: int = 8, **series: object) -> list[float]:
    spec = parse_spec(
        plan_doc(
            horizon=horizon,
            data={
                "forward_price_per_kwh": 0.05,
                "base_load_kw": {"csv": "load.csv", "column": "load_kw", **series},
            },
        ),
        base_dir=tmp_path,
    )
    return [float(v) for v in plan_problem(spec).inputs.base_kw]


def refused(tmp_path: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as e:
        plan_with_load(tmp_path)
    return e.value


def test_a_bad_number_names_file_row_and_column(tmp_path: Path) -> None:
    load_file(tmp_path, [0.4, 0.5, "0.6x", 0.4, 0.4, 0.4, 0.4, 0.4])
    e = refused(tmp_path)
    assert (e.file.name if e.file else None, e.row, e.column) == ("load.csv", 4, "load_kw")
    assert "load.csv, row 4, column 'load_kw'" in str(e)
    assert "'0.6x'" in str(e)


def test_a_missing_column_is_named_with_the_columns_there_are(tmp_path: Path) -> None:
    write_csv(tmp_path / "load.csv", ["time", "kw"], zip(instants(T0, Q, 8, BERLIN), [1] * 8, strict=True))
    e = refused(tmp_path)
    assert (e.row, e.column) == (1, "load_kw")
    assert "the file has: kw" in str(e)


def test_a_repeated_time_is_refused_at_its_row(tmp_path: Path) -> None:
    times = instants(T0, Q, 8, BERLIN)
    times[2] = times[1]
    load_file(tmp_path, [0.4] * 8, times)
    e = refused(tmp_path)
    assert (e.row, e.column) == (4, "time")
    assert "repeats" in str(e)


def test_an_unsorted_time_is_refused_at_its_row(tmp_path: Path) -> None:
    times = instants(T0, Q, 8, BERLIN)
    times[5], times[6] = times[6], times[5]
    load_file(tmp_path, [0.4] * 8, times)
    e = refused(tmp_path)
    assert (e.row, e.column) == (8, "time")
    assert "earlier" in str(e)


def test_a_time_without_offset_is_refused(tmp_path: Path) -> None:
    times = instants(T0, Q, 8, BERLIN)
    times[3] = times[3][:19]
    load_file(tmp_path, [0.4] * 8, times)
    e = refused(tmp_path)
    assert (e.row, e.column) == (5, "time")


def test_a_gap_is_refused_at_the_row_after_it(tmp_path: Path) -> None:
    times = instants(T0, Q, 9, BERLIN)
    del times[3]  # 00:45 is missing
    load_file(tmp_path, [0.4] * 8, times)
    e = refused(tmp_path)
    assert (e.row, e.column) == (5, "time")  # the 01:00 row, right after the gap
    assert "gap" in str(e)


def test_an_empty_value_the_run_needs_is_refused_one_it_does_not_need_is_not(tmp_path: Path) -> None:
    load_file(tmp_path, [0.4, 0.5, 0.6, 0.7, "", 0.4, 0.4, 0.4, 0.4, 0.4])
    e = refused(tmp_path)
    assert (e.row, e.column) == (6, "load_kw")
    assert "fill: week" in str(e)
    # the same file for the first four quarter hours only: the empty cell lies outside the run
    assert plan_with_load(tmp_path, horizon=4) == [0.4, 0.5, 0.6, 0.7]


def test_fill_week_takes_the_value_a_week_later(tmp_path: Path) -> None:
    hours = 8 * 24
    values: list[object] = [float(k) for k in range(hours)]
    values[3] = ""
    start = datetime(2015, 6, 1, tzinfo=UTC)
    write_csv(
        tmp_path / "load.csv", ["time", "load_kw"],
        zip(instants(start, timedelta(hours=1), hours, UTC), values, strict=True),
    )  # fmt: skip
    spec = parse_spec(
        plan_doc(
            start="2015-06-01T03:00:00+00:00",
            horizon=1,
            step="PT1H",
            data={
                "forward_price_per_kwh": 0.05,
                "base_load_kw": {"csv": "load.csv", "column": "load_kw", "fill": "week"},
            },
        ),
        base_dir=tmp_path,
    )
    assert plan_problem(spec).inputs.base_kw.tolist() == [3.0 + 7 * 24]


def test_data_that_do_not_cover_the_run_say_what_they_cover(tmp_path: Path) -> None:
    load_file(tmp_path, [0.4] * 4)
    e = refused(tmp_path)
    # four quarter hours from 00:00 Berlin (22:00 UTC); the run's eight reach 02:00 Berlin
    assert "the data cover 2015-05-31T22:00:00..2015-05-31T23:00:00, the run needs" in str(e)
    assert "2015-05-31T22:00:00..2015-06-01T00:00:00 (UTC)" in str(e)


BATTERY = {"capacity_kwh": 5, "charge_max_kw": 1, "discharge_max_kw": 1}
EV = {"capacity_kwh": 60, "charge_max_kw": 7}
DAILY = {"arrive": "18:00", "depart": "07:00", "arrival_kwh": 1, "target_kwh": 2}
PEAK = {"from": "17:00", "to": "21:00", "import_per_kwh": 0.2}


@pytest.mark.parametrize(
    ("patch", "key"),
    [
        ({"devices": {"battery": {"capacty_kwh": 5}}}, "devices.battery.capacty_kwh"),
        ({"devices": {"battery": BATTERY}}, "devices.battery.energy_kwh"),
        ({"devices": {"ev": EV | {"daily": DAILY | {"arrive": "25:00"}}}}, "devices.ev.daily.arrive"),
        ({"tariff": {"network": {"periods": [PEAK | {"import_per_kwh": "high"}]}}},
         "tariff.network.periods[0].import_per_kwh"),
        ({"tariff": {"export": {"rule": "fixed"}}}, "tariff.export.price_per_kwh"),
        ({"data": {"forward_price_per_kwh": {"csv": "p.csv", "column": "p", "align": "local"}}},
         "data.forward_price_per_kwh.align"),
        ({"site": {"tz": "Europe/Atlantis"}}, "site.tz"),
        ({"days": 1}, "days"),  # both days and horizon
        ({"series": {}}, "series"),  # the old format's key: refused, naming the new one
    ],
)  # fmt: skip
def test_bad_keys_are_named_by_their_path(patch: dict[str, object], key: str, tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as e:
        plan_problem(parse_spec(plan_doc(**patch), base_dir=tmp_path))
    assert e.value.key == key
