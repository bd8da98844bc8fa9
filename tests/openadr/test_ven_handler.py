"""The VEN's event handler on its own (what openleadr calls): answers that never depend on the disk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agent.clock import ManualClock
from agent.openadr import build_ven, openadr_market
from tests.openadr.conftest import home_config

T0 = datetime(2026, 7, 16, 0, 0, tzinfo=UTC)


def _event(status: str = "far") -> dict[str, Any]:
    interval = {"dtstart": T0, "duration": timedelta(hours=1), "uid": 0, "signal_payload": 0.42}
    return {
        "event_descriptor": {"event_id": "e1", "modification_number": 0, "event_status": status},
        "active_period": {"dtstart": T0, "duration": timedelta(hours=1)},
        "event_signals": [
            {"signal_name": "ELECTRICITY_PRICE", "signal_type": "price", "intervals": [interval]}
        ],
        "response_required": "always",
    }


async def test_a_program_that_cannot_be_saved_still_opts_in(tmp_path: Path) -> None:
    # Regression guard: a save error raised inside the handler made openleadr opt out of the event.
    config = home_config(tmp_path / "no-such-dir", "http://127.0.0.1:9/x")
    market = openadr_market(config)
    assert market is not None
    ven = build_ven(config, market, ManualClock(T0))
    assert await ven.on_event(_event()) == "optIn"
    assert [e.event_id for e in ven.book.events] == ["e1"]
    assert not (tmp_path / "no-such-dir").exists()


async def test_an_event_without_a_descriptor_is_opted_out(tmp_path: Path) -> None:
    config = home_config(tmp_path, "http://127.0.0.1:9/x")
    market = openadr_market(config)
    assert market is not None
    ven = build_ven(config, market, ManualClock(T0))
    assert await ven.on_event({"event_signals": []}) == "optOut"
    assert ven.book.events == []


async def test_a_cancellation_answers_as_before_and_withdraws_the_prices(tmp_path: Path) -> None:
    config = home_config(tmp_path, "http://127.0.0.1:9/x")
    market = openadr_market(config)
    assert market is not None
    ven = build_ven(config, market, ManualClock(T0))
    assert await ven.on_event(_event()) == "optIn"
    assert await ven.on_event(_event("cancelled")) == "optIn"
    assert ven.book.events == []
