"""The retailer link: one persistent MQTT session between the home and its retailer.

Inbound messages are queued in arrival order and handled one at a time by
:class:`~agent.link.inbound.Receiver`; each is acknowledged to the broker only once handled (so
acknowledgements go out in order, and at most the broker's in-flight window is ever unhandled).
Outbound messages are committed to the :class:`~agent.link.outbox.Outbox` first and published by
one pump task, oldest first, each marked acknowledged on PUBACK. A heartbeat goes out every
``heartbeat_s``; housekeeping prunes the book by the clock and records expiry of the home's tenders.

The link starts without waiting for the broker: the agent runs offline, and the outbox drains
when the broker returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

from agent import __version__
from agent.cancel import honour_cancellation
from agent.clock import Clock
from agent.ledger import Ledger, TenderStatus
from agent.link import outgoing
from agent.link.book import TenderBook
from agent.link.counters import LinkCounters, OnceLog, Sample
from agent.link.errors import LinkNotRunning, LinkTimeout
from agent.link.inbound import COMMIT_TIMEOUT_S, Receiver
from agent.link.messages import (
    Acceptance,
    Cancellation,
    ErrorReport,
    Heartbeat,
    LinkState,
    encode_acceptance,
    encode_cancellation,
    encode_error_report,
    encode_heartbeat,
)
from agent.link.outbox import Outbox, OutboxRow
from agent.link.restore import remember
from agent.link.settings import LinkSettings
from agent.link.topics import Outbound, Topics
from agent.logsafe import clip
from agent.market import codec
from agent.market.records import Delivery, Tender
from drivers.mqtt.client import Message, MqttClient
from drivers.mqtt.errors import MqttError

_log = logging.getLogger("agent.link")
T = TypeVar("T")

# Every row is queued through this link, which wakes the pump; a pump with nothing to do still
# looks at the outbox this often, as a guard only.
IDLE_WAIT_S = 300.0
# How long the pump waits for the broker with rows queued before it looks again.
CONNECT_WAIT_S = 5.0
# Expired tenders leave the book this often (every reader of the book already skips them, so
# this bounds memory and dates the home's expired tenders in the ledger, which is to the second
# of their expiry whenever it runs); acknowledged outbox rows are pruned hourly.
HOUSEKEEPING_S = 60.0
OUTBOX_PRUNE_S = 3600.0
# A heartbeat that could not be sent is tried again this soon.
HEARTBEAT_RETRY_S = 1.0
# Acknowledged outbox rows are kept this long (the book is rebuilt from them after a restart).
OUTBOX_KEEP = timedelta(days=7)
RETRY_MIN_S = 0.5
RETRY_MAX_S = 30.0
# Cancelled tasks end at their next await; this bounds a stop if one does not.
STOP_TASKS_S = 5.0
# A crashed task is started again after this pause (a crash that repeats at once does not spin).
RESTART_S = 1.0


class RetailerLink:
    def __init__(
        self, *, settings: LinkSettings, client: MqttClient, outbox: Outbox, ledger: Ledger, clock: Clock
    ) -> None:
        self.settings = settings
        self.topics = Topics(settings.topic_prefix, settings.home_party)
        self.client = client
        self.outbox = outbox
        self.ledger = ledger
        self.clock = clock
        self.book = TenderBook(settings.home_party)
        self.counters = LinkCounters()
        self._posted: set[str] = set()
        self._receiver = Receiver(
            settings=settings,
            topics=self.topics,
            ledger=ledger,
            book=self.book,
            clock=clock,
            counters=self.counters,
            reply=self._reply,
            is_own_tender=self._posted.__contains__,
        )
        self._inbox: asyncio.Queue[tuple[Message, int]] = asyncio.Queue()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._down: set[str] = set()  # tasks that crashed and wait to be restarted
        self._once = OnceLog(_log)
        self._running = False

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._running

    @property
    def state(self) -> LinkState:
        if not self._running:
            return LinkState.STOPPED
        if self._receiver.degraded or self._down or any(t.done() for t in self._tasks):
            return LinkState.DEGRADED
        return LinkState.RUNNING

    async def start(self) -> None:
        """Rebuild the book from disk, subscribe, connect in the background and start the tasks."""
        if self._running:
            return
        await self._restore()
        # Registered before connecting: a persistent session delivers queued messages right
        # after CONNACK, and a message no handler takes would never be acknowledged.
        await self.client.subscribe(self.topics.inbound_filter, self._on_message, qos=self.settings.qos)
        await self.client.start()
        self._running = True
        for name, loop in (
            ("inbox", self._inbox_loop),
            ("outbox", self._pump_loop),
            ("heartbeat", self._heartbeat_loop),
            ("housekeeping", self._housekeeping_loop),
        ):
            task = asyncio.create_task(self._supervised(name, loop), name=f"retailer-link-{name}")
            self._tasks.append(task)

    async def wait_connected(self, timeout_s: float) -> None:
        """Return once connected and subscribed; :class:`LinkTimeout` otherwise (the link keeps
        trying in the background either way).

        The subscription goes out right after CONNACK; the heartbeat published here comes after
        it on the same connection, so its PUBACK means the broker has the subscription too.
        """
        try:
            async with asyncio.timeout(timeout_s):
                await self.client.wait_connected(timeout_s)
                await self._publish_heartbeat()
        except (TimeoutError, MqttError) as e:
            raise LinkTimeout(f"retailer link not connected within {timeout_s:g} s: {e}") from e

    async def stop(self) -> None:
        """Stop the tasks (an unfinished inbound message stays unacknowledged), say offline, close
        the connection and the outbox. The ledger stays open: it is the caller's."""
        if not self._running:
            return
        self._running = False
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        _, pending = await asyncio.wait(tasks, timeout=STOP_TASKS_S)
        for task in pending:
            where = "".join(traceback.format_stack(task.get_stack(limit=3)[-1])) if task.get_stack() else "?"
            _log.error(
                "retailer link: task %s did not stop within %g s, at:\n%s",
                task.get_name(),
                STOP_TASKS_S,
                where,
            )
        if self.client.connected:
            with contextlib.suppress(MqttError):
                await self._publish_heartbeat()
        await self.client.close()
        await asyncio.to_thread(self.outbox.close)

    async def flush(self, timeout_s: float) -> None:
        """Wait until every queued outbound message is acknowledged (tests, shutdown)."""
        try:
            async with asyncio.timeout(timeout_s):
                while await self._db(self.outbox.pending_count):
                    self._wake.set()
                    await asyncio.sleep(0.05)
        except TimeoutError as e:
            raise LinkTimeout(f"outbox not drained within {timeout_s:g} s") from e

    # -- the control cycle's API -----------------------------------------------------------

    async def send_acceptance(
        self, tender_id: str, quantity_kw: Decimal, *, message_id: str | None = None
    ) -> Acceptance:
        """Accept ``quantity_kw`` of a retailer tender in the book; the retailer confirms with a
        transaction. The kilowatts are reserved in the book at once."""
        self._require_running()
        a = outgoing.acceptance(
            self.settings, self.book, tender_id, quantity_kw, self.clock.now(), message_id=message_id
        )
        # In the ledger before it can be sent: the retailer's confirmation is matched against it.
        await self._db(self.ledger.add_acceptance, a.id, a.tender_id, a.party, a.quantity_kw, a.sent)
        await self._enqueue(Outbound.ACCEPT, a.id, codec.dumps(encode_acceptance(a)))
        self.book.reserve(a.tender_id, a.id, a.quantity_kw)
        return a

    async def post_tender(self, tender: Tender) -> None:
        """Offer the home's own tender to the retailer (recorded in the ledger as posted)."""
        self._require_running()
        outgoing.check_own_tender(self.settings, tender, self.clock.now())
        # In the ledger before it can be sent: the retailer may execute it at once, and its
        # transaction is matched against the posted tender.
        self._posted.add(tender.id)
        await self._db(self.ledger.add_posted_tender, tender)
        await self._enqueue(Outbound.TENDER, tender.id, codec.dumps(codec.encode_tender(tender)))
        self.book.add_tender(tender)

    async def cancel(self, tender_id: str) -> Cancellation:
        """Withdraw an open tender the home posted; what already executed stays executed."""
        self._require_running()
        c = outgoing.cancellation(self.settings, self.book, tender_id, self.clock.now())
        await self._enqueue(Outbound.CANCEL, c.id, codec.dumps(encode_cancellation(c)))
        await self._db(self.ledger.add_tender_status, TenderStatus(tender_id, "withdrawn", c.sent))
        self.book.withdraw(tender_id)
        return c

    async def send_delivery(self, delivery: Delivery) -> str:
        """Report a closed metering interval's metered energy; returns the message id (one per
        interval, so sending it again is a duplicate the retailer drops)."""
        self._require_running()
        message_id = outgoing.check_delivery(self.settings, delivery)
        await self._enqueue(
            Outbound.DELIVERY, message_id, codec.dumps(codec.encode_delivery(delivery, message_id))
        )
        return message_id

    def metric_samples(self) -> list[Sample]:
        return self.counters.samples()

    # -- inbound ---------------------------------------------------------------------------

    def _on_message(self, msg: Message) -> None:
        # The connection generation goes with the message: an ack for a packet id of an older
        # connection must not be sent on a newer one (the broker redelivers it there anyway).
        self._inbox.put_nowait((msg, self.client.connects))

    async def _inbox_loop(self) -> None:
        while True:
            honour_cancellation()
            msg, generation = await self._inbox.get()
            try:
                await self._receiver.process(msg)
            except Exception as e:  # a message the link cannot handle is answered, not retried for ever
                await self._receiver.answer_unhandled(msg, e)
            if self.client.connects == generation:
                self.client.ack(msg)

    async def _supervised(self, name: str, loop: Callable[[], Awaitable[None]]) -> None:
        """Run ``loop`` for as long as the link runs: a crash is logged, counted and the loop
        started again; meanwhile the heartbeat says ``degraded``."""
        while True:
            try:
                await loop()
                raise RuntimeError("returned")  # the loops run until cancelled
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self._down.add(name)
                self.counters.task_restarts[name] += 1
                _log.error("retailer link: %s task crashed, restarting: %s", name, clip(e), exc_info=e)
                await self.clock.sleep(RESTART_S)
                self._down.discard(name)

    async def _reply(self, report: ErrorReport) -> None:
        await self._enqueue(Outbound.ERROR, report.id, codec.dumps(encode_error_report(report)))

    # -- outbound --------------------------------------------------------------------------

    def _require_running(self) -> None:
        if not self._running:
            raise LinkNotRunning("the retailer link is not running")

    async def _enqueue(self, kind: Outbound, message_id: str, payload: str) -> None:
        topic = self.topics.from_home(kind)
        await self._db(self.outbox.enqueue, kind.value, message_id, topic, payload, self.clock.now())
        self._wake.set()

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.wait_for(asyncio.to_thread(fn, *args), COMMIT_TIMEOUT_S)
        except TimeoutError as e:
            raise LinkTimeout(f"local store took longer than {COMMIT_TIMEOUT_S:g} s") from e

    def _pending(self) -> tuple[list[OutboxRow], int]:
        """The oldest unacknowledged rows and how many there are: one trip to the store."""
        return self.outbox.pending(), self.outbox.pending_count()

    async def _pump_loop(self) -> None:
        delay_s = RETRY_MIN_S
        while True:
            honour_cancellation()
            self._wake.clear()
            rows, self.counters.pending = await self._db(self._pending)
            if not rows:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), IDLE_WAIT_S)
                continue
            try:
                await self.client.wait_connected(CONNECT_WAIT_S)
                for row in rows:
                    self.counters.sent[row.kind] += 1
                    await self._db(self.outbox.note_attempt, row.seq)
                    await self.client.publish(
                        row.topic, row.payload, qos=self.settings.qos, retain=row.retain
                    )
                    await self._db(self.outbox.mark_acked, row.seq, self.clock.now())
                    self.counters.acked[row.kind] += 1
                    self.counters.pending -= 1
            except MqttError as e:
                self.counters.publish_failures += 1
                self._once.warn("publish", "outbox: %s; %d message(s) wait", e, self.counters.pending)
                await self.clock.sleep(delay_s)
                delay_s = min(RETRY_MAX_S, delay_s * 2)
                continue
            delay_s = RETRY_MIN_S
            self._once.recovered("publish", "outbox: publishing again")

    # -- heartbeat and housekeeping --------------------------------------------------------

    async def _publish_heartbeat(self) -> None:
        hb = Heartbeat(
            party=self.settings.home_party,
            state=self.state,
            sent=self.clock.now(),
            version=__version__,
            outbox_pending=self.counters.pending,
            rejected_in=self.counters.errors_out,
        )
        topic = self.topics.from_home(Outbound.HEARTBEAT)
        await self.client.publish(topic, codec.dumps(encode_heartbeat(hb)), qos=1, retain=True)

    async def _heartbeat_loop(self) -> None:
        # Every heartbeat_s, and right after every (re)connect so the retained status is fresh at
        # once: the loop sleeps until the next beat is due or the connection changes.
        sent_on = -1
        next_due_s = self.clock.monotonic_s()
        while True:
            honour_cancellation()
            wait_s = self.settings.heartbeat_s
            if self.client.connected:
                if self.client.connects != sent_on or self.clock.monotonic_s() >= next_due_s:
                    try:
                        await self._publish_heartbeat()
                        sent_on = self.client.connects
                        next_due_s = self.clock.monotonic_s() + self.settings.heartbeat_s
                    except MqttError as e:
                        _log.debug("heartbeat not sent: %s", e)
                        next_due_s = self.clock.monotonic_s() + min(
                            HEARTBEAT_RETRY_S, self.settings.heartbeat_s
                        )
                wait_s = max(0.0, next_due_s - self.clock.monotonic_s())
            await self._sleep_or_connection_change(wait_s)

    async def _sleep_or_connection_change(self, seconds: float) -> None:
        """Sleep ``seconds`` on the agent's clock, or less if the connection state changes."""
        changed = asyncio.ensure_future(self.client.wait_changed())
        sleeping = asyncio.ensure_future(self.clock.sleep(seconds))
        try:
            await asyncio.wait((changed, sleeping), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (changed, sleeping):
                task.cancel()

    async def _housekeeping_loop(self) -> None:
        pruned_s = self.clock.monotonic_s()
        while True:
            honour_cancellation()
            await self.clock.sleep(HOUSEKEEPING_S)
            await self._guard("housekeeping", self._housekeeping)
            if self.clock.monotonic_s() - pruned_s >= OUTBOX_PRUNE_S:
                pruned_s = self.clock.monotonic_s()
                await self._guard("outbox pruning", self._prune_outbox)

    async def _prune_outbox(self) -> None:
        await self._db(self.outbox.prune, self.clock.now() - OUTBOX_KEEP)

    async def _housekeeping(self) -> None:
        now = self.clock.now()
        for t in self.book.prune(now):
            if t.id in self._posted:
                await self._db(self.ledger.add_tender_status, TenderStatus(t.id, "expired", t.expires))

    async def _guard(self, what: str, step: Callable[[], Awaitable[None]]) -> None:
        try:
            await step()
        except Exception as e:  # a failed round is retried next time; the task must live on
            self._once.warn(what, "%s failed: %s", what, e)
        else:
            self._once.recovered(what, "%s works again", what)

    # -- restart ---------------------------------------------------------------------------

    async def _restore(self) -> None:
        state = await self._db(remember, self.settings, self.outbox, self.ledger, self.clock.now())
        state.into(self.book)
        self._posted |= state.posted_ids
        self.counters.pending = state.pending
