"""The pure arithmetic of settling one metering interval (agent.market.settlement)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.market.intervals import Duration, horizon
from agent.market.settlement import (
    MeterReading,
    MissingReadingError,
    Settlement,
    SettlementError,
    counter_delta,
    settle_interval,
)
from tests.ledger.helpers import HOME, at, block, reading

D = Decimal
SLOT = block("2026-03-29T10:00+02:00", Duration.PT5M)  # the day clocks went forward in Berlin


def settle(
    readings: list[MeterReading], position: str = "1.2", spot: str = "0.40", modulus: str | None = None
) -> Settlement:
    return settle_interval(
        interval=SLOT,
        party=HOME,
        position_kw=D(position),
        readings=readings,
        spot_price_per_kwh=D(spot),
        currency="EUR",
        modulus_kwh=None if modulus is None else D(modulus),
    )


def test_excess_use_is_bought_at_spot() -> None:
    # 1.2 kW for 5 min = 0.1 kWh scheduled; metered 0.35 - 0.05 = 0.3 kWh; 0.2 kWh more at 0.40.
    s = settle(
        [
            reading(at("2026-03-29T10:00+02:00"), "1000.000", "50.000"),
            reading(at("2026-03-29T10:05+02:00"), "1000.350", "50.050"),
        ]
    )
    assert s.scheduled_kwh == D("0.1")
    assert (s.import_kwh, s.export_kwh, s.net_kwh) == (D("0.35"), D("0.05"), D("0.3"))
    assert s.deviation_kwh == D("0.2")
    assert s.amount == D("0.08")
    assert s.flags == ()
    assert s.delivery.net_kwh == D("0.3")


def test_surplus_is_sold_at_spot_and_credited() -> None:
    # Metered 0.05 - 0.03 = 0.02 kWh against 0.1 scheduled: 0.08 kWh sold back, the home is paid.
    s = settle(
        [
            reading(at("2026-03-29T10:00+02:00"), "7.00", "3.00"),
            reading(at("2026-03-29T10:05+02:00"), "7.05", "3.03"),
        ]
    )
    assert s.deviation_kwh == D("-0.08")
    assert s.amount == D("-0.032")


def test_negative_position_export_schedule() -> None:
    # Sold 2.4 kW forward (-0.2 kWh scheduled) but exported only 0.15 kWh: 0.05 kWh bought back.
    s = settle(
        [
            reading(at("2026-03-29T10:00+02:00"), "1", "10"),
            reading(at("2026-03-29T10:05+02:00"), "1", "10.15"),
        ],
        position="-2.4",
        spot="0.25",
    )
    assert s.scheduled_kwh == D("-0.2")
    assert s.deviation_kwh == D("0.05")
    assert s.amount == D("0.0125")


def test_rollover_at_the_configured_modulus() -> None:
    # A 5-digit register wraps 99999.9 -> 0.15: 0.25 kWh, not -99999.75.
    s = settle(
        [
            reading(at("2026-03-29T10:00+02:00"), "99999.90"),
            reading(at("2026-03-29T10:05+02:00"), "0.15"),
        ],
        modulus="100000",
    )
    assert s.import_kwh == D("0.25")
    assert s.flags == ("import:rollover",)


def test_reset_counts_from_zero_and_is_flagged() -> None:
    # Meter restarted between 10:02 and 10:03: 0.1 before, 0.1 since the restart, then 0.2 more.
    s = settle(
        [
            reading(at("2026-03-29T10:00+02:00"), "1234.5", "2"),
            reading(at("2026-03-29T10:02+02:00"), "1234.6", "2"),
            reading(at("2026-03-29T10:03+02:00"), "0.1", "2"),
            reading(at("2026-03-29T10:05+02:00"), "0.3", "2"),
        ]
    )
    assert s.import_kwh == D("0.4")
    assert s.flags == ("import:reset",)


def test_drop_far_from_the_top_is_a_reset_even_with_a_modulus() -> None:
    assert counter_delta([D(5000), D("0.2")], D(100000)) == counter_delta([D(5000), D("0.2")])
    assert counter_delta([D(5000), D("0.2")], D(100000)).resets == 1


def test_export_counter_rollover_flagged_separately() -> None:
    s = settle(
        [
            reading(at("2026-03-29T10:00+02:00"), "5", "999.95"),
            reading(at("2026-03-29T10:05+02:00"), "5.1", "0.05"),
        ],
        modulus="1000",
    )
    assert (s.import_kwh, s.export_kwh) == (D("0.1"), D("0.10"))
    assert s.flags == ("export:rollover",)


def test_nearest_reading_to_each_bound_is_used() -> None:
    readings = [
        reading(at("2026-03-29T09:59:50+02:00"), "10.0"),  # 10 s before the start: nearest
        reading(at("2026-03-29T10:00:40+02:00"), "10.1"),
        reading(at("2026-03-29T10:04:30+02:00"), "10.3"),  # 30 s before the end: tie, earlier wins
        reading(at("2026-03-29T10:05:30+02:00"), "10.4"),
    ]
    s = settle(readings)
    assert s.start_reading_ts == at("2026-03-29T09:59:50+02:00")
    assert s.end_reading_ts == at("2026-03-29T10:04:30+02:00")
    assert s.import_kwh == D("0.3")


@pytest.mark.parametrize(
    ("times", "bound"),
    [
        (["2026-03-29T10:01:01+02:00", "2026-03-29T10:05+02:00"], "start"),
        (["2026-03-29T10:00+02:00", "2026-03-29T10:03:59+02:00"], "end"),
        ([], "start"),
    ],
)
def test_missing_reading_is_a_typed_error(times: list[str], bound: str) -> None:
    with pytest.raises(MissingReadingError) as e:
        settle([reading(at(t), "1") for t in times])
    assert e.value.bound == bound


def test_readings_of_two_meters_are_refused() -> None:
    with pytest.raises(SettlementError, match="one meter"):
        settle(
            [
                reading(at("2026-03-29T10:00+02:00"), "1", source="a"),
                reading(at("2026-03-29T10:05+02:00"), "2", source="b"),
            ]
        )


def test_a_25_hour_day_schedules_25_hours() -> None:
    # Guards against using the nominal 24 h instead of the day's real span on DST days.
    day = block("2026-10-25T12:00+01:00", Duration.P1D)
    s = settle_interval(
        interval=day,
        party=HOME,
        position_kw=D("1"),
        readings=[reading(day.start, "0"), reading(day.end, "30")],
        spot_price_per_kwh=D("0.1"),
        currency="EUR",
    )
    assert s.scheduled_kwh == D(25)
    assert s.deviation_kwh == D(5)


@settings(max_examples=150, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.integers(-20, 20), st.integers(0, 4999)
        ),  # (seconds of jitter, Wh since last); < modulus/2
        min_size=13,
        max_size=13,
    ),
    modulus_kwh=st.sampled_from([None, D(10)]),
    start_kwh=st.integers(0, 9000),
)
def test_consecutive_settlements_account_for_every_kwh(
    steps: list[tuple[int, int]], modulus_kwh: Decimal | None, start_kwh: int
) -> None:
    """Intervals share their boundary reading: metered energies add up to the whole counter delta."""
    slots = horizon(SLOT, 12)
    value = D(start_kwh) / 1000 % (modulus_kwh or D(10**9))
    readings = []
    total = D(0)
    for i, (jitter_s, wh) in enumerate(steps):
        if i:
            total += D(wh) / 1000
            value = (value + D(wh) / 1000) % (modulus_kwh or D(10**9))
        ts = SLOT.start + timedelta(minutes=5 * i, seconds=jitter_s)
        readings.append(reading(ts, str(value)))
    metered = D(0)
    for slot in slots:
        s = settle_interval(
            interval=slot,
            party=HOME,
            position_kw=D(0),
            readings=readings,
            spot_price_per_kwh=D(1),
            currency="EUR",
            modulus_kwh=modulus_kwh,
        )
        assert "import:reset" not in s.flags
        metered += s.import_kwh
    assert metered == total
