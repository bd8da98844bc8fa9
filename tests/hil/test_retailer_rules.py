"""The retailer simulator's pricing, desk rules and fault payloads, without a broker."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.link.messages import (
    Acceptance,
    Cancellation,
    ErrorReport,
    encode_acceptance,
    encode_cancellation,
    encode_error_report,
)
from agent.link.topics import Inbound
from agent.market import codec
from agent.market.errors import CodecError
from agent.market.intervals import Duration, containing
from agent.market.records import Product, Side, Tender
from hil.plant.data import DATA_DIR
from hil.retailer import BadTender, Desk, PricingRules, RetailerBook, RetailerSettings, Wholesale, bad_tender
from hil.retailer.book import HomeTenderState
from hil.retailer.schedule import Schedule

BERLIN = ZoneInfo("Europe/Berlin")
SUMMER_CSV = DATA_DIR / "prices_de_2015.csv"
ANCHOR = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 11, 40, tzinfo=BERLIN)


def csv_price(day: int, hour: int) -> Decimal:
    """The recorded EUR/MWh of day ``day`` (0 = 2015-06-15) and local hour, in EUR/kWh."""
    wanted = f"2015-06-{15 + day:02d}T{hour:02d}:00:00+02:00"
    for row in csv.DictReader(SUMMER_CSV.read_text().splitlines()):
        if row["time"] == wanted:
            return Decimal(row["price_eur_per_mwh"]) / 1000
    raise AssertionError(wanted)


@pytest.fixture
def wholesale() -> Wholesale:
    return Wholesale.from_csv(SUMMER_CSV, BERLIN, ANCHOR, first_day=date(2015, 6, 15))


def make_desk(wholesale: Wholesale) -> tuple[Desk, Schedule, RetailerSettings]:
    s = RetailerSettings(host="127.0.0.1", port=1, home="home-1", tz=BERLIN, actionable_h=3, indicative_h=2)
    book = RetailerBook("home-1")
    rules = PricingRules()
    return Desk(s, rules, wholesale, book), Schedule(s, rules, wholesale), s


def test_wholesale_replays_the_recorded_week_and_loops(wholesale: Wholesale) -> None:
    assert wholesale.at(datetime(2026, 6, 15, 12, 30, tzinfo=BERLIN)) == csv_price(0, 12)
    assert wholesale.at(datetime(2026, 6, 18, 7, 0, tzinfo=BERLIN)) == csv_price(3, 7)
    # A week later the same recorded day comes again (a bug here would run off the data).
    assert wholesale.at(datetime(2026, 6, 22, 12, 0, tzinfo=BERLIN)) == csv_price(0, 12)
    assert wholesale.at(datetime(2026, 6, 14, 23, 0, tzinfo=BERLIN)) == csv_price(6, 23)


@settings(max_examples=200, deadline=None)
@given(
    w=st.decimals(min_value=Decimal("-0.2"), max_value=Decimal("0.5"), places=5),
    steps=st.integers(1, 5),
)
def test_ladders_rise_with_quantity_and_never_cross(w: Decimal, steps: int) -> None:
    rules = PricingRules(ladder_steps=steps)
    sells = [rules.sell_price(w, k) for k in range(steps)]
    buys = [rules.buy_price(w, k) for k in range(steps)]
    assert sells == sorted(sells)
    assert buys == sorted(buys, reverse=True)
    assert max(buys) < min(sells)
    assert max(buys) < rules.spot_price(w) < min(sells)


def test_schedule_publishes_ladders_indicative_transport_and_spot(wholesale: Wholesale) -> None:
    desk, schedule, s = make_desk(wholesale)
    replies = schedule.due(NOW, desk.book)
    tenders = [
        codec.decode_tender(r.payload, s.codec_context(NOW)) for r in replies if r.kind is not Inbound.SPOT
    ]
    energy = [t for t in tenders if t.product is Product.ENERGY]
    twelve = [t for t in energy if t.interval.start.hour == 12 and t.interval.duration is Duration.PT1H]
    assert sorted((t.side.value, t.price_per_kwh) for t in twelve) == sorted(
        [("sell", csv_price(0, 12) + Decimal("0.102") + k * Decimal("0.003")) for k in range(3)]
        + [("buy", csv_price(0, 12) + Decimal("0.098") - k * Decimal("0.003")) for k in range(3)]
    )
    assert all(t.actionable and t.expires == t.interval.start_utc - s.block_gate for t in twelve)
    # Hours 12..14 start within 3 h of 11:40: actionable; 15 and 16 indicative (one step a side).
    indicative = [t for t in energy if not t.actionable]
    assert sorted({t.interval.start.hour for t in indicative}) == [15, 16]
    assert len(indicative) == 4
    near = [t for t in energy if t.interval.duration is Duration.PT5M]
    assert {t.interval.start.minute for t in near} == {45, 50}  # 11:55 starts 15 min ahead: not yet
    assert len(near) == 4  # one step a side
    transport = [t for t in tenders if t.product is Product.TRANSPORT]
    assert {(t.from_node, t.to_node, t.price_per_kwh) for t in transport} == {
        ("grid", "home-1", Decimal("0.07")),
        ("home-1", "grid", Decimal("0.01")),
    }
    spots = [r for r in replies if r.kind is Inbound.SPOT]
    assert len(spots) == 1  # 11:40; 11:45 is more than the lead away
    # Nothing twice: the next tick publishes only what came due since.
    later = schedule.due(NOW + timedelta(minutes=5), desk.book)
    assert all(r.message_id not in {x.message_id for x in replies} for r in later)
    # 11:45 (UTC 09:45) came due; 11:50 is still more than a minute away.
    assert [r.message_id for r in later if r.kind is Inbound.SPOT] == ["spot-20260615T0945Z-PT5M"]


def accept(tender_id: str, kw: str, aid: str) -> bytes:
    a = Acceptance(aid, tender_id, "home-1", Decimal(kw), NOW)
    return codec.dumps(encode_acceptance(a)).encode()


def test_acceptances_fill_partially_never_beyond_the_offer(wholesale: Wholesale) -> None:
    desk, schedule, s = make_desk(wholesale)
    schedule.due(NOW, desk.book)
    tid = "r-blk-20260615T1000Z-PT1H-s0"
    first = desk.handle("accept", "t", accept(tid, "1.5", "a1"), NOW)
    tx1 = codec.decode_transaction(first[0].payload, s.codec_context(NOW))
    assert (tx1.buyer, tx1.seller, tx1.quantity_kw) == ("home-1", "retailer", Decimal("1.5"))
    second = desk.handle("accept", "t", accept(tid, "5", "a2"), NOW)
    assert codec.decode_transaction(second[0].payload, s.codec_context(NOW)).quantity_kw == Decimal("0.5")
    third = desk.handle("accept", "t", accept(tid, "1", "a3"), NOW)
    assert third[0].kind is Inbound.ERROR and desk.book.errors_sent[-1].field == "quantity_kw"
    # The same acceptance again: the same transaction again, nothing more filled.
    assert desk.handle("accept", "t", accept(tid, "1.5", "a1"), NOW)[0].payload == first[0].payload
    assert desk.book.open_kw(tid) == 0
    assert len(desk.book.transactions) == 2


@pytest.mark.parametrize(
    ("tender_id", "late_s"),
    [("r-nope", 0), ("r-blk-20260615T1000Z-PT1H-b1", 30 * 60), ("r-ind-20260615T1300Z-PT1H-s0", 0)],
)
def test_acceptance_of_unknown_expired_or_indicative_tender_is_an_error(
    wholesale: Wholesale, tender_id: str, late_s: int
) -> None:
    desk, schedule, _ = make_desk(wholesale)
    schedule.due(NOW, desk.book)
    replies = desk.handle("accept", "t", accept(tender_id, "1", "a9"), NOW + timedelta(seconds=late_s))
    assert [r.kind for r in replies] == [Inbound.ERROR]
    report = desk.book.errors_sent[-1]
    assert (report.message_id, report.field) == ("a9", "tender_id")
    assert not desk.book.transactions


def home_tender(side: Side, price: Decimal, tid: str) -> bytes:
    hour = containing(NOW + timedelta(hours=1), Duration.PT1H, BERLIN)
    t = Tender(tid, "home-1", "retailer", side, Product.ENERGY, hour, Decimal("1.25"), price, "EUR",
               hour.start_utc - timedelta(minutes=1), True)  # fmt: skip
    return codec.dumps(codec.encode_tender(t)).encode()


def test_home_tenders_execute_exactly_at_the_documented_thresholds(wholesale: Wholesale) -> None:
    desk, _, s = make_desk(wholesale)
    w = csv_price(0, 12)
    tick = Decimal("0.0001")
    cases = [
        # marginal cost: wholesale + retail adder 0.10 + margin 0.002
        ("sell-at-cost", Side.SELL, w + Decimal("0.102"), True),
        ("sell-above", Side.SELL, w + Decimal("0.102") + tick, False),
        # best sell price: wholesale + retail adder 0.10 + half spread 0.002
        ("buy-at-retail", Side.BUY, w + Decimal("0.102"), True),
        ("buy-below", Side.BUY, w + Decimal("0.102") - tick, False),
    ]
    for tid, side, price, taken in cases:
        replies = desk.handle("tender", "t", home_tender(side, price, tid), NOW)
        assert bool(replies) is taken, tid
        if taken:
            tx = codec.decode_transaction(replies[0].payload, s.codec_context(NOW))
            assert tx.price_per_kwh == price and tx.quantity_kw == Decimal("1.25")
            assert (tx.seller == "home-1") is (side is Side.SELL)
    assert desk.book.home_state["buy-below"] is HomeTenderState.OPEN
    c = Cancellation("cancel-buy-below", "buy-below", "home-1", NOW)
    assert desk.handle("cancel", "t", codec.dumps(encode_cancellation(c)).encode(), NOW) == []
    state_after = dict(desk.book.home_state)
    assert state_after["buy-below"] is HomeTenderState.WITHDRAWN
    unknown = Cancellation("cancel-x", "x", "home-1", NOW)
    assert (
        desk.handle("cancel", "t", codec.dumps(encode_cancellation(unknown)).encode(), NOW)[0].kind
        is Inbound.ERROR
    )


@pytest.mark.parametrize("kind", list(BadTender))
def test_fault_payloads_break_exactly_what_they_claim(wholesale: Wholesale, kind: BadTender) -> None:
    _, schedule, s = make_desk(wholesale)
    fault = bad_tender(kind, schedule.sample_tender(NOW))
    with pytest.raises(CodecError) as err:
        codec.decode_tender(fault.payload, s.codec_context(NOW))
    assert err.value.field == fault.field
    if kind is BadTender.ONE_MB:
        assert len(fault.payload) > 1024 * 1024


def test_a_redelivered_bad_message_gets_the_same_error_report_id(wholesale: Wholesale) -> None:
    # Guards a second, unmatchable report after a redelivery: report ids were random.
    desk, schedule, _ = make_desk(wholesale)
    schedule.due(NOW, desk.book)
    first = desk.handle("accept", "t", accept("nope", "1", "a7"), NOW)
    again = desk.handle("accept", "t", accept("nope", "1", "a7"), NOW)
    other = desk.handle("accept", "t", accept("nope", "2", "a7"), NOW)
    assert [r.message_id for r in first] == [r.message_id for r in again]
    assert [r.message_id for r in first] != [r.message_id for r in other]
    assert first[0].message_id.startswith("rerr-a7-")


def test_the_homes_error_report_about_an_empty_key_is_accepted(wholesale: Wholesale) -> None:
    # Guards the retailer refusing the home's report when the offending key was "".
    desk, _, _ = make_desk(wholesale)
    report = ErrorReport("err-x-1", "r-1", "tem/retailer/home-1/to-home/tender", "", "unknown field")
    payload = codec.dumps(encode_error_report(report)).encode()
    assert desk.handle("error", "tem/retailer/home-1/from-home/error", payload, NOW) == []
    assert desk.book.errors_received == [report]
    assert desk.book.errors_sent == []


def test_standing_transport_tenders_are_sent_again_for_a_home_that_subscribed_late(
    wholesale: Wholesale,
) -> None:
    # Guards a network charge refused by the home: the hour's transport tender went out before
    # the home's first subscription, so its charge matched nothing the home had received.
    desk, schedule, _ = make_desk(wholesale)
    first = schedule.due(NOW, desk.book)
    again = schedule.standing_offers(NOW, desk.book)
    transport = {(r.kind, r.message_id, r.payload) for r in first if r.kind is Inbound.TRANSPORT}
    assert transport
    assert {(r.kind, r.message_id, r.payload) for r in again} == transport
    assert len(again) == len(transport)
    # Once their hours are over they are not sent again.
    assert schedule.standing_offers(NOW + timedelta(hours=30), desk.book) == []
