"""The home's VEN: registers with the utility's VTN through openleadr and keeps the program's prices.

openleadr's ``OpenADRClient`` does the OpenADR 2.0b exchange (registration, polling, event
responses, reports); this module owns its lifecycle and answers its callbacks:

* each event → :func:`agent.openadr.signals.read_event` → the :class:`ProgramBook`; the VEN opts
  in to events whose prices it follows (``opt_in``), out of the others (no price signal, another
  program's market context, a level without a price), and forgets cancelled events;
* a TELEMETRY_USAGE report of the meter's grid power (W, +import/−export) is offered, and sent
  when the VTN asks; a stale meter reading is left out of the report, never sent as a number;
* every message parsed from the VTN marks it heard; a VTN silent for ``REREGISTER_POLLS`` poll
  periods, or one that cancels the registration, is registered with again, with back-off from
  ``RETRY_MIN_S`` to the config's ``retry_max_s``. Nothing here ever blocks the agent: the book
  falls back to its held prices and then the base rate by itself.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from types import ModuleType
from typing import TYPE_CHECKING, Any

from agent.clock import Clock
from agent.config.openadr import OpenAdrMarket
from agent.errors import HemsError
from agent.openadr.book import ProgramBook
from agent.openadr.errors import OpenAdrError, SignalError
from agent.openadr.signals import ENDED_STATUSES, event_id_of, read_event, status_of
from drivers.base import Reading

if TYPE_CHECKING:
    from openleadr import OpenADRClient

log = logging.getLogger(__name__)

# First retry after a failed registration; doubled up to the config's retry_max_s.
RETRY_MIN_S = 5.0
# A VTN not heard for this many of its poll periods is registered with again (it may have
# restarted and forgotten us); never sooner than SILENT_MIN_S.
REREGISTER_POLLS = 10
SILENT_MIN_S = 60.0
# How often the watch loop looks at the registration; the VTN's poll period if shorter.
WATCH_S = 30.0
# The time the agent last heard the VTN is saved this often (an SD card is not written per poll).
SAVE_EVERY_S = 600.0
# openleadr's stop closes its HTTP session and scheduler: local work, bounded anyway.
STOP_TIMEOUT_S = 5.0
REPORT_SPECIFIER_ID = "hems-telemetry-usage"
REPORT_R_ID = "grid_power"

UsageReader = Callable[[], Reading[float]]


def _openleadr() -> ModuleType:
    """openleadr, imported when a VEN first registers: it takes about a second to import (lxml,
    signxml, cryptography, APScheduler), which no other hems command should pay."""
    with warnings.catch_warnings():
        # signxml warns at import that DSA is deprecated; no OpenADR profile uses DSA.
        warnings.filterwarnings("ignore", message="DSA is deprecated")
        import openleadr as module
    # openleadr logs every event delivery and report sample at INFO (it sets that level at
    # import), APScheduler every poll it runs: the VEN logs the transitions itself, so theirs
    # are kept to warnings and a gateway's journal is not written every poll.
    logging.getLogger("openleadr").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    openleadr: ModuleType = module  # untyped: its names are reached through this module
    return openleadr


class OpenAdrVen:
    def __init__(
        self,
        market: OpenAdrMarket,
        book: ProgramBook,
        clock: Clock,
        currency: str,
        *,
        usage_w: UsageReader | None = None,
    ) -> None:
        self._m = market
        self._book = book
        self._clock = clock
        self._currency = currency
        self._usage_w = usage_w
        self._client: OpenADRClient | None = None
        self._opted: dict[str, str] = {}
        self._failing = False
        self.ven_id: str | None = market.ven_id
        self.registered = False

    @property
    def book(self) -> ProgramBook:
        return self._book

    async def run(self) -> None:
        """Register, follow the VTN, register again when it is lost; until cancelled."""
        delay_s = RETRY_MIN_S
        while True:
            try:
                client = await self.register()
            except OpenAdrError as e:
                if not self._failing:
                    log.warning("OpenADR: %s; retrying (base rate after the hold time)", e)
                    self._failing = True
                await self._clock.sleep(delay_s)
                delay_s = min(delay_s * 2, self._m.retry_max_s)
                continue
            if self._failing:
                log.info("OpenADR: registered again with %s", self._m.vtn_url)
                self._failing = False
            delay_s = RETRY_MIN_S
            try:
                await self._watch(client)
            finally:
                await self.close()

    async def register(self) -> OpenADRClient:
        """One registration (query, register, reports, event sync, first poll), bounded in time."""
        await self.close()
        try:
            client = self._new_client()
        except (OSError, ValueError) as e:  # unreadable files, or not PEM
            raise OpenAdrError(f"the VEN's certificate or key cannot be used: {e}") from e
        self._client = client
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns the result when its inner
        # task finishes in the same loop pass as a cancellation, and the cancellation is lost; a
        # VEN stopped as its registration completed would then follow the VTN for ever.
        try:
            async with asyncio.timeout(self._m.request_timeout_s):
                await client.run()
        except TimeoutError as e:
            await self.close()
            raise OpenAdrError(
                f"the VTN at {self._m.vtn_url} did not complete registration within "
                f"{self._m.request_timeout_s:g} s"
            ) from e
        except Exception as e:  # openleadr raises whatever its parsing meets; none is ours to leak
            await self.close()
            raise OpenAdrError(f"registration with {self._m.vtn_url} failed: {e!r}") from e
        if client.registration_id is None:
            await self.close()
            raise OpenAdrError(f"the VTN at {self._m.vtn_url} is unreachable or refused the registration")
        self.ven_id = client.ven_id
        self.registered = True
        await self._save()
        log.info("OpenADR: registered with %s as VEN %s", self._m.vtn_url, client.ven_id)
        return client

    async def close(self) -> None:
        client, self._client = self._client, None
        self.registered = False
        if client is None:
            return
        try:
            if client.client_session is not None:
                async with asyncio.timeout(STOP_TIMEOUT_S):  # not wait_for: see register
                    await client.stop()
            elif client.scheduler.running:
                client.scheduler.shutdown(wait=False)
        except Exception as e:  # closing must never stop the agent
            log.warning("OpenADR: closing the VEN client: %r", e)

    async def _watch(self, client: OpenADRClient) -> None:
        poll = client.poll_frequency or timedelta(seconds=WATCH_S)
        silent_limit = timedelta(seconds=max(REREGISTER_POLLS * poll.total_seconds(), SILENT_MIN_S))
        saved_at = self._clock.monotonic_s()
        while client.registration_id is not None:
            await self._clock.sleep(min(poll.total_seconds(), WATCH_S))
            heard = self._book.last_heard
            if heard is not None and self._clock.now() - heard > silent_limit:
                log.warning("OpenADR: the VTN has been silent since %s; registering again", heard)
                return
            if self._clock.monotonic_s() - saved_at >= SAVE_EVERY_S:
                self._book.prune()
                await self._save()
                saved_at = self._clock.monotonic_s()
        log.warning("OpenADR: the VTN cancelled the registration; registering again")

    def _new_client(self) -> OpenADRClient:
        tls = self._m.tls
        passphrase = tls.key_passphrase.get_secret_value() if tls and tls.key_passphrase else None
        openleadr = _openleadr()
        client = openleadr.OpenADRClient(
            ven_name=self._m.ven_name,
            vtn_url=self._m.vtn_url,
            ven_id=self.ven_id,
            cert=str(tls.cert_file) if tls else None,
            key=str(tls.key_file) if tls else None,
            passphrase=passphrase,
            ca_file=str(tls.ca_file) if tls else None,
            vtn_fingerprint=tls.vtn_fingerprint if tls else None,
            check_hostname=tls.check_hostname if tls else True,
            show_fingerprint=False,  # openleadr would print it to stdout; it is logged below
        )
        if tls is not None:
            fingerprint = openleadr.utils.certificate_fingerprint(tls.cert_file.read_bytes())
            log.info("OpenADR: this VEN's certificate fingerprint (the utility needs it): %s", fingerprint)
        client.add_handler("on_event", self.on_event)
        client.add_handler("on_update_event", self.on_event)
        client.add_hook("after_parse_xml", self._heard)
        if self._m.report_usage and self._usage_w is not None:
            client.add_report(
                callback=self._usage_sample,
                resource_id="grid_meter",
                measurement="real_power",
                unit="W",
                report_specifier_id=REPORT_SPECIFIER_ID,
                r_id=REPORT_R_ID,
                report_duration=timedelta(hours=1),
                sampling_rate=openleadr.objects.SamplingRate(
                    min_period=timedelta(seconds=self._m.report_min_period_s),
                    max_period=timedelta(hours=1),
                    on_change=False,
                ),
            )
        return client

    def _heard(self, message_type: str, payload: Any) -> None:
        self._book.heard()

    async def on_event(self, event: Mapping[str, Any]) -> str:
        """openleadr's on_event / on_update_event: book the event's prices, answer optIn or optOut."""
        try:
            event_id = event_id_of(event)
        except SignalError as e:
            log.warning("OpenADR: %s; opting out", e)
            return "optOut"
        opt = self._decide(event_id, event)
        self._opted[event_id] = opt
        await self._save()
        return opt

    async def _save(self) -> None:
        # A full or read-only disk must not change what the VEN answers the VTN (openleadr opts
        # out of every event whose handler raised): the prices stay in memory, the save is retried.
        try:
            await self._book.save()
        except OSError as e:
            log.warning("OpenADR: the program could not be saved: %s", e)

    def _decide(self, event_id: str, event: Mapping[str, Any]) -> str:
        if status_of(event) in ENDED_STATUSES:
            if self._book.drop(event_id):
                log.info("OpenADR: event %s %s; its prices are withdrawn", event_id, status_of(event))
            return self._opted.get(event_id, "optOut")
        context = self._m.market_context
        if context is not None and event.get("event_descriptor", {}).get("market_context") != context:
            self._book.drop(event_id)
            log.info("OpenADR: event %s is not of program %s; opting out", event_id, context)
            return "optOut"
        try:
            program_event = read_event(event, self._m.simple_levels, self._currency)
        except SignalError as e:
            self._book.drop(event_id)  # a modification that made it unreadable withdraws it
            log.warning("OpenADR: %s; opting out", e)
            return "optOut"
        self._book.put(program_event)
        log.info(
            "OpenADR: event %s (modification %d): %d price interval(s) from %s",
            event_id,
            program_event.modification_number,
            len(program_event.spans),
            program_event.spans[0].start.isoformat(),
        )
        return "optIn" if self._m.opt_in else "optOut"

    def _usage_sample(self) -> list[tuple[datetime, float]]:
        if self._usage_w is None:
            return []
        try:
            reading = self._usage_w()
        except HemsError as e:  # a stale or failed meter: nothing is reported rather than a guess
            log.info("OpenADR: no usage sample for the VTN: %s", e)
            return []
        return [(reading.at, float(reading.value))]
