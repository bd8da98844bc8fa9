"""Poison messages over a real broker: a message the link cannot handle is answered and
acknowledged (never redelivered for ever), a crashed task is restarted while the heartbeat says
so, and what a peer writes reaches logs, counters and /metrics bounded and escaped."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from agent.clock import Clock
from agent.ledger import Ledger
from agent.link.link import RetailerLink
from agent.link.messages import LinkState
from agent.market.jsontext import load_object
from agent.market.records import Tender
from agent.web import metrics
from tests.link import helpers as h
from tests.link.conftest import LinkFactory
from tests.link.retailer import ScriptedRetailer, until

POISON_ID = "t-poison"


def state_of(link: RetailerLink) -> LinkState:
    """What the heartbeat would say now."""
    return link.state


class BuggyLedger(Ledger):
    """A real ledger with a bug on one tender: an exception no handler expects."""

    def add_received_tender(self, t: Tender) -> object:  # type: ignore[override]
        if t.id == POISON_ID:
            raise RuntimeError("a bug on this message")
        return super().add_received_tender(t)


async def test_a_message_that_cannot_be_handled_is_answered_acknowledged_and_not_redelivered(
    make_link: LinkFactory, retailer: ScriptedRetailer, clock: Clock, tmp_path: Path
) -> None:
    # Guards the inbox dying on one message: nothing later was handled or acknowledged, and
    # after a restart the broker redelivered it and the link stuck again.
    state = tmp_path / "state"
    buggy = BuggyLedger.open(state, h.BERLIN, home_party=h.HOME, clock=clock)
    first = await make_link(state_dir=state, ledger=buggy)
    poison = h.tender(clock.now(), id=POISON_ID)
    retailer.publish("tender", h.tender_json(poison))
    (report,) = await retailer.wait_for("error")
    assert (report.json["message_id"], report.json["field"]) == (None, "message")
    assert "RuntimeError" in report.json["error"]
    assert first.counters.unhandled == 1
    good = h.tender(clock.now())
    retailer.publish("tender", h.tender_json(good))
    await until(lambda: first.book.tender(good.id) is not None)
    assert first.state is LinkState.RUNNING
    await first.stop()
    buggy.close()

    second = await make_link(state_dir=state)
    probe = h.tender(clock.now())
    retailer.publish("tender", h.tender_json(probe))
    await until(lambda: second.book.tender(probe.id) is not None)
    # The poison was acknowledged the first time: the new session receives only the probe.
    assert sum(second.counters.received.values()) == 1
    assert len(retailer.received("error")) == 1


async def test_a_crashed_inbox_task_is_restarted_and_the_heartbeat_says_degraded_meanwhile(
    make_link: LinkFactory, retailer: ScriptedRetailer, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = await make_link()
    real_ack = link.client.ack
    crashes: list[object] = []

    def ack_once_broken(msg: Any) -> None:
        if not crashes:
            crashes.append(msg)
            raise OSError("socket gone (injected)")
        real_ack(msg)

    monkeypatch.setattr(link.client, "ack", ack_once_broken)
    first = h.tender(clock.now())
    retailer.publish("tender", h.tender_json(first))
    await until(lambda: link.counters.task_restarts["inbox"] == 1)
    assert state_of(link) is LinkState.DEGRADED
    second = h.tender(clock.now())
    retailer.publish("tender", h.tender_json(second))
    await until(lambda: link.book.tender(second.id) is not None)
    assert state_of(link) is LinkState.RUNNING
    assert link.book.tender(first.id) == first


async def test_an_error_report_id_is_the_same_for_a_redelivered_message(
    make_link: LinkFactory, retailer: ScriptedRetailer, clock: Clock
) -> None:
    link = await make_link()
    bad = {**h.tender_json(h.tender(clock.now())), "price": "99"}
    retailer.publish("tender", bad)
    retailer.publish("tender", bad)
    good = h.tender(clock.now())
    retailer.publish("tender", h.tender_json(good))
    await until(lambda: link.book.tender(good.id) is not None)
    await link.flush(10.0)
    # Both copies were refused; the second answer is the first one again (one outbox row).
    assert link.counters.rejected[("tender", "price")] == 2
    rows = link.outbox.rows("error")
    assert len(rows) == 1 and json.loads(rows[0].payload)["message_id"] == bad["id"]
    assert len(retailer.received("error")) == 1


async def test_a_spot_id_resent_for_another_interval_is_refused(
    make_link: LinkFactory, retailer: ScriptedRetailer, clock: Clock
) -> None:
    link = await make_link()
    first, first_json = h.spot(clock.now(), "0.30")
    later = first.interval.next()
    retailer.publish("spot", first_json)
    retailer.publish("spot", {**first_json, "interval": later.to_wire()})
    (report,) = await retailer.wait_for("error")
    assert (report.json["message_id"], report.json["field"]) == (first_json["id"], "interval.start")
    assert link.ledger.spot_price_for(later) == []
    assert link.ledger.spot_price_for(first.interval) == [first]


async def test_a_conflicting_repeat_names_the_wire_key(
    make_link: LinkFactory, retailer: ScriptedRetailer, clock: Clock
) -> None:
    link = await make_link()
    t = h.tender(clock.now())
    retailer.publish("tender", h.tender_json(t))
    retailer.publish("tender", {**h.tender_json(t), "price": "0.99"})
    (report,) = await retailer.wait_for("error")
    assert report.json["field"] == "price"  # not the ledger's column price_per_kwh
    assert link.ledger.received_tenders() == [t]


async def test_hostile_keys_and_texts_stay_bounded_and_escaped(
    make_link: LinkFactory, retailer: ScriptedRetailer, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    link = await make_link()
    caplog.set_level(logging.DEBUG, logger="agent.link")
    spoof = 'a",kind="spot'
    for i in range(40):
        key = f"{spoof}\n\x1b[31m{i}" + "k" * 60_000  # a newline, a terminal escape, 60 KB
        retailer.publish("tender", {**h.tender_json(h.tender(clock.now())), key: 1})
    retailer.publish_raw('offers",kind="spot' + "z" * 5000, b'{"id": "o-1"}')
    good = h.tender(clock.now())
    retailer.publish("tender", h.tender_json(good))
    await until(lambda: link.book.tender(good.id) is not None)
    # One label for every invented key; one for the unknown topic.
    assert dict(link.counters.rejected) == {("tender", "other"): 40, ("unknown", "topic"): 1}
    agent = SimpleNamespace(link=link)
    page = "\n".join(line for f in metrics._link_families(agent) for line in f.render())  # type: ignore[arg-type]
    assert len(page) < 4000
    assert 'kind="spot' not in page.replace('kind="spot"', "")
    rejected = [line for line in page.splitlines() if line.startswith("hems_link_rejected_total")]
    assert rejected == [
        'hems_link_rejected_total{kind="tender",field="other"} 40.0',
        'hems_link_rejected_total{kind="unknown",field="topic"} 1.0',
    ]
    for record in caplog.records:
        text = record.getMessage()
        assert "\n" not in text and "\x1b" not in text and len(text) < 2000
    reports = await retailer.wait_for("error", lambda got: len(got) == 41)
    assert all(len(r.payload) < 2000 for r in reports)
    assert reports[0].json["field"].startswith('a",kind="spot\\x0a\\x1b[31m0')
    assert load_object(reports[-1].payload)["field"] == "topic"
