"""The VEN's event handler on its own (what openleadr calls): answers that never depend on the disk."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.clock import ManualClock, RealClock
from agent.openadr import OpenAdrError, build_ven, openadr_market
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


async def test_a_vtn_that_never_answers_is_a_timeout_error_not_a_hang(tmp_path: Path) -> None:
    # A server that accepts the connection and then says nothing (a hung VTN behind a proxy).
    accepted: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    config = home_config(tmp_path, f"http://127.0.0.1:{port}/OpenADR2/Simple/2.0b", timeout_s=2)
    market = openadr_market(config)
    assert market is not None
    ven = build_ven(config, market, RealClock())
    try:
        async with asyncio.timeout(10):
            with pytest.raises(OpenAdrError, match="did not complete registration within 2 s"):
                await ven.register()
        assert accepted  # the VEN did reach it
        assert not ven.registered
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_certificate_that_is_not_pem_is_a_typed_error(tmp_path: Path) -> None:
    for name in ("ven.crt", "ven.key", "ca.crt"):
        (tmp_path / name).write_text("not a certificate\n")
    d = tmp_path
    tls = f"tls: {{cert_file: {d / 'ven.crt'}, key_file: {d / 'ven.key'}, ca_file: {d / 'ca.crt'}}}"
    config = home_config(tmp_path, "https://127.0.0.1:9/OpenADR2/Simple/2.0b", tls)
    market = openadr_market(config)
    assert market is not None
    ven = build_ven(config, market, RealClock())
    with pytest.raises(OpenAdrError, match="certificate or key cannot be used"):
        await ven.register()
