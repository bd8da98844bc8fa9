"""The VEN over https with client certificates and signed messages, as OpenADR 2.0b requires,
against the VTN process with a self-signed CA (certificates made for the test)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.openadr.certs import make_certs
from tests.openadr.conftest import home_config, next_hour
from tests.openadr.test_ven_against_vtn import Home, add_price_event
from tests.openadr.vtn_process import VtnProcess, free_port


def _fingerprint(cert: Path) -> str:
    from openleadr import utils

    return str(utils.certificate_fingerprint(cert.read_bytes()))


@pytest.fixture
async def tls_vtn(tmp_path: Path) -> AsyncIterator[VtnProcess]:
    certs = tmp_path / "certs"
    certs.mkdir()
    make_certs(certs)
    process = VtnProcess(free_port(), poll_s=1.0, cert_dir=certs)
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


def _tls(certs: Path, fingerprint: str) -> str:
    return (
        f"tls: {{cert_file: {certs / 'ven.crt'}, key_file: {certs / 'ven.key'}, "
        f"ca_file: {certs / 'ca.crt'}, vtn_fingerprint: '{fingerprint}'}}"
    )


async def test_registration_and_prices_over_mutual_tls(tmp_path: Path, tls_vtn: VtnProcess) -> None:
    certs = tmp_path / "certs"
    home = Home(home_config(tmp_path / "state", tls_vtn.url, _tls(certs, _fingerprint(certs / "vtn.crt"))))
    (tmp_path / "state").mkdir()
    home.start()
    try:
        await tls_vtn.expect("registered", ven_name="home")
        start = next_hour()
        await add_price_event(tls_vtn, "tls-1", start, ["0.42"])
        assert (await tls_vtn.expect("opt", event_id="tls-1"))["opt_type"] == "optIn"
        assert await home.hourly_import(start, 1) == [(Decimal("0.58"), "indicative")]
    finally:
        await home.stop()


async def test_messages_not_signed_by_the_expected_vtn_are_dropped(
    tmp_path: Path, tls_vtn: VtnProcess
) -> None:
    certs = tmp_path / "certs"
    wrong = _fingerprint(certs / "ven.crt")  # any certificate but the VTN's
    config = home_config(tmp_path / "state", tls_vtn.url, _tls(certs, wrong))
    (tmp_path / "state").mkdir()
    home = Home(config)
    home.start()
    try:
        await tls_vtn.expect("registered", ven_name="home")  # the VTN answers...
        await asyncio.sleep(2.0)
        # ...but the VEN takes nothing from a VTN it cannot verify: not registered, never heard.
        assert not home.ven.registered
        assert home.ven.book.last_heard is None
    finally:
        await home.stop()
