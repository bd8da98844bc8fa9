"""One paho-mqtt client per broker, bridged into asyncio.

paho's network loop runs in its own thread (``loop_start``) and does the reconnecting itself with
a capped exponential backoff. Every paho callback does nothing but hand its arguments to the
event loop with ``call_soon_threadsafe``; all state of this class is touched on the event loop
only, so it needs no locks. (A lock shared with paho's callbacks could deadlock: paho holds its
own message mutex while calling ``on_publish``.)

Because ``publish``/``subscribe`` are called on the event loop and their acknowledgement
callbacks are queued onto the same loop, the future for a message id is always registered
before its PUBACK/SUBACK can be processed.

Subscriptions live in this object, not in the broker session: they are sent again after every
(re)connect, so a restarted broker without persistence gets them back.

With ``session_expiry_s`` the client keeps a persistent broker session (MQTT v5 clean_start false
plus a session expiry; v3.1.1 clean_session false) and acknowledges QoS 1/2 messages only when
told to (:meth:`MqttClient.ack`): the retailer link commits a message before acknowledging it, so
the broker redelivers anything received but not committed when the agent stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from drivers.mqtt.errors import MqttAuthError, MqttError, MqttNotConnected, MqttRefused, MqttTimeout
from drivers.mqtt.settings import BrokerSettings

_log = logging.getLogger("drivers.mqtt")

# CONNACK reason codes meaning "your credentials are wrong" (v3.1.1 return codes 4 and 5 arrive
# translated to these by paho).
_AUTH_REASONS = frozenset({0x86, 0x87})  # Bad user name or password, Not authorized
ONLINE = "online"
OFFLINE = "offline"
# Bounded so stop() returns even if paho's thread sits in a reconnect wait (it checks every 1 s).
STOP_TIMEOUT_S = 5.0


class ConnectionState(StrEnum):
    IDLE = "idle"  # not started, or stopped
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"  # lost; paho is retrying
    AUTH_FAILED = "auth_failed"  # refused; retrying slowly


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    payload: bytes
    retain: bool
    qos: int
    mid: int = 0  # the packet id; with manual acks it is what :meth:`MqttClient.ack` confirms


MessageHandler = Callable[[Message], None]


class Subscription:
    """A handler on a topic filter; ``close()`` removes it (and unsubscribes if it was the last)."""

    def __init__(self, client: MqttClient, topic_filter: str, handler: MessageHandler, qos: int) -> None:
        self._client = client
        self.topic_filter = topic_filter
        self.handler = handler
        self.qos = qos
        self.closed = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._client._remove(self)


class MqttClient:
    """The connection to one broker, shared by all devices on it (a :class:`Link`)."""

    def __init__(
        self, settings: BrokerSettings, *, name: str | None = None, session_expiry_s: int | None = None
    ) -> None:
        self.settings = settings
        self.name = name or settings.link_key
        # None: a clean session acknowledged by paho on receipt (devices). A number: a persistent
        # session kept that long by the broker while we are away, with manual acknowledgements.
        self.session_expiry_s = session_expiry_s
        self._paho = self._make_paho(settings)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._state = ConnectionState.IDLE
        self._changed = asyncio.Event()
        self._last_error: MqttError | None = None
        self._subs: list[Subscription] = []
        self._acks: dict[int, asyncio.Future[None]] = {}
        self._closing = False
        self.connects = 0  # successful connections so far (a reconnect counts)
        self.handler_errors = 0

    # -- construction ---------------------------------------------------------------------------

    def _make_paho(self, s: BrokerSettings) -> mqtt.Client:
        v5 = s.protocol == "5"
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=s.client_id,
            protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
            reconnect_on_failure=True,
            **self._session_args(v5),
        )
        if s.username is not None:
            client.username_pw_set(s.username, s.password)
        if s.tls:
            client.tls_set(
                ca_certs=str(s.ca_file) if s.ca_file else None,
                certfile=str(s.cert_file) if s.cert_file else None,
                keyfile=str(s.key_file) if s.key_file else None,
                cert_reqs=ssl.CERT_REQUIRED,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
            if s.tls_insecure:
                client.tls_insecure_set(True)
        client.will_set(s.availability_topic, OFFLINE, qos=1, retain=True)
        client.reconnect_delay_set(s.reconnect_min_s, s.reconnect_max_s)
        client.on_connect = self._cb_connect
        client.on_connect_fail = self._cb_connect_fail
        client.on_disconnect = self._cb_disconnect
        client.on_message = self._cb_message
        client.on_publish = self._cb_ack
        client.on_subscribe = self._cb_suback
        return client

    def _session_args(self, v5: bool) -> dict[str, Any]:
        if self.session_expiry_s is None:
            return {}
        args: dict[str, Any] = {"manual_ack": True}
        if not v5:
            args["clean_session"] = False
        return args

    def _connect_args(self) -> dict[str, Any]:
        if self.session_expiry_s is None or self.settings.protocol != "5":
            return {}
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.session_expiry_s
        return {"clean_start": False, "properties": props}

    # -- public state ---------------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def connected(self) -> bool:
        return self._state is ConnectionState.CONNECTED

    @property
    def last_error(self) -> MqttError | None:
        return self._last_error

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start connecting in the background (idempotent); see :meth:`wait_connected`."""
        if self._loop is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._set_state(ConnectionState.CONNECTING)
        s = self.settings
        self._paho.connect_async(s.host, s.port, keepalive=s.keepalive_s, **self._connect_args())
        self._paho.loop_start()

    async def wait_connected(self, timeout_s: float) -> None:
        """Return once connected; :class:`MqttAuthError` at once if the broker refused us."""
        try:
            async with asyncio.timeout(timeout_s):
                while True:
                    if self._state is ConnectionState.CONNECTED:
                        return
                    if self._state is ConnectionState.AUTH_FAILED and self._last_error is not None:
                        raise self._last_error
                    if self._state is ConnectionState.IDLE:
                        raise MqttNotConnected("client is not started", device=self.name)
                    await self._changed.wait()
        except TimeoutError as e:
            reason = f" ({self._last_error})" if self._last_error else ""
            raise MqttTimeout(f"not connected after {timeout_s:g} s{reason}", device=self.name) from e

    async def wait_changed(self) -> None:
        """Return at the next change of the connection state (connected, lost, refused)."""
        await self._changed.wait()

    async def close(self) -> None:
        """Say "offline", disconnect and stop the network thread."""
        if self._loop is None:
            return
        self._closing = True
        if self.connected:
            try:
                await self.publish(self.settings.availability_topic, OFFLINE, qos=1, retain=True)
            except MqttError as e:
                _log.debug("%s: could not publish offline on stop: %s", self.name, e)
        self._paho.disconnect()
        try:
            await asyncio.wait_for(asyncio.to_thread(self._paho.loop_stop), STOP_TIMEOUT_S)
        except TimeoutError:
            _log.warning("%s: network thread did not stop within %g s", self.name, STOP_TIMEOUT_S)
        self._fail_acks(MqttNotConnected("client stopped", device=self.name))
        self._loop = None
        self._closing = False
        self._set_state(ConnectionState.IDLE)

    # -- publish / subscribe --------------------------------------------------------------------

    async def publish(
        self,
        topic: str,
        payload: bytes | str,
        *,
        qos: int = 1,
        retain: bool = False,
        timeout_s: float | None = None,
    ) -> None:
        """Publish and wait for the broker's acknowledgement (PUBACK/PUBCOMP; sent, for QoS 0).

        Refuses at once when not connected: a queued command delivered minutes later, after a
        reconnect, could switch a device the agent has since decided otherwise about.
        """
        if not self.connected:
            raise MqttNotConnected(f"cannot publish to {topic}: {self._state}", device=self.name)
        info = self._paho.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise MqttNotConnected(f"publish to {topic}: {mqtt.error_string(info.rc)}", device=self.name)
        await self._await_ack(info.mid, f"publish to {topic}", timeout_s)

    async def subscribe(
        self, topic_filter: str, handler: MessageHandler, *, qos: int = 1, timeout_s: float | None = None
    ) -> Subscription:
        """Register ``handler`` for messages matching ``topic_filter`` and subscribe.

        The handler is registered before the SUBSCRIBE goes out (retained messages can arrive
        right after the SUBACK) and removed again if the subscription fails. When not connected
        the subscription is kept and sent on the next connect.
        """
        sub = Subscription(self, topic_filter, handler, qos)
        self._subs.append(sub)
        try:
            if self.connected:
                rc, mid = self._paho.subscribe(topic_filter, qos=qos)
                if rc == MQTTErrorCode.MQTT_ERR_SUCCESS and mid is not None:
                    await self._await_ack(mid, f"subscribe to {topic_filter}", timeout_s)
        except BaseException:
            sub.close()
            raise
        return sub

    def ack(self, msg: Message) -> None:
        """Acknowledge a message received with manual acks (a no-op otherwise, or for QoS 0).

        Not an error when the connection is down: the broker then redelivers the message on the
        next connect, which the idempotent receiver ignores.
        """
        if self.session_expiry_s is None or msg.qos == 0:
            return
        rc = self._paho.ack(msg.mid, msg.qos)
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            _log.debug("%s: ack of message %d not sent: %s", self.name, msg.mid, mqtt.error_string(rc))

    def _remove(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)
        still_wanted = any(s.topic_filter == sub.topic_filter for s in self._subs)
        if not still_wanted and self.connected:
            self._paho.unsubscribe(sub.topic_filter)

    async def _await_ack(self, mid: int, what: str, timeout_s: float | None) -> None:
        assert self._loop is not None
        fut: asyncio.Future[None] = self._loop.create_future()
        self._acks[mid] = fut
        limit_s = self.settings.ack_timeout_s if timeout_s is None else timeout_s
        try:
            async with asyncio.timeout(limit_s):
                await fut
        except TimeoutError as e:
            raise MqttTimeout(f"{what}: no acknowledgement within {limit_s:g} s", device=self.name) from e
        finally:
            if self._acks.get(mid) is fut:
                del self._acks[mid]

    def _fail_acks(self, error: MqttError) -> None:
        acks, self._acks = self._acks, {}
        for fut in acks.values():
            if not fut.done():
                fut.set_exception(error)

    # -- paho thread → event loop ---------------------------------------------------------------

    def _to_loop(self, fn: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        # The loop may close between the check and the call (shutting down): nothing to deliver.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(fn, *args)

    def _cb_connect(
        self, _c: mqtt.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Properties | None
    ) -> None:
        if reason.value in _AUTH_REASONS:
            # Slow paho's own retry down to the auth interval (it resets on the next success).
            s = self.settings
            self._paho.reconnect_delay_set(s.auth_retry_s, s.auth_retry_s)
        self._to_loop(self._on_connect, reason.value, str(reason))

    def _cb_connect_fail(self, _c: mqtt.Client, _u: Any) -> None:
        self._to_loop(self._on_connect_fail)

    def _cb_disconnect(
        self, _c: mqtt.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Properties | None
    ) -> None:
        self._to_loop(self._on_disconnect, str(reason))

    def _cb_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        message = Message(msg.topic, bytes(msg.payload), bool(msg.retain), msg.qos, msg.mid)
        self._to_loop(self._dispatch, message)

    def _cb_ack(self, _c: mqtt.Client, _u: Any, mid: int, reason: ReasonCode, _p: Properties) -> None:
        self._to_loop(self._on_ack, mid, reason.is_failure, str(reason))

    def _cb_suback(
        self, _c: mqtt.Client, _u: Any, mid: int, reasons: list[ReasonCode], _p: Properties | None
    ) -> None:
        failed = [str(r) for r in reasons if r.is_failure]
        self._to_loop(self._on_ack, mid, bool(failed), ", ".join(failed))

    # -- event-loop side ------------------------------------------------------------------------

    def _set_state(self, state: ConnectionState) -> None:
        self._state = state
        # Wake every waiter, then arm a fresh event for the next change.
        self._changed.set()
        self._changed = asyncio.Event()

    def _on_connect(self, code: int, reason: str) -> None:
        if code == 0:
            s = self.settings
            if self._state is ConnectionState.AUTH_FAILED:
                self._paho.reconnect_delay_set(s.reconnect_min_s, s.reconnect_max_s)
            if self._last_error is not None or self.connects:
                _log.info("%s: connected again", self.name)
            self._last_error = None
            self.connects += 1
            self._set_state(ConnectionState.CONNECTED)
            self._paho.publish(s.availability_topic, ONLINE, qos=1, retain=True)
            wanted: dict[str, int] = {}
            for sub in self._subs:
                wanted[sub.topic_filter] = max(sub.qos, wanted.get(sub.topic_filter, 0))
            if wanted:
                self._paho.subscribe(list(wanted.items()))
            return
        error: MqttError
        if code in _AUTH_REASONS:
            error = MqttAuthError(f"broker refused the connection: {reason}", device=self.name)
            state = ConnectionState.AUTH_FAILED
        else:
            error = MqttRefused(f"broker refused the connection: {reason}", device=self.name)
            state = ConnectionState.DISCONNECTED
        self._note_error(error)
        self._set_state(state)

    def _on_connect_fail(self) -> None:
        s = self.settings
        self._note_error(MqttNotConnected(f"cannot connect to {s.host}:{s.port}", device=self.name))
        if self._state is not ConnectionState.AUTH_FAILED:
            self._set_state(ConnectionState.DISCONNECTED)

    def _on_disconnect(self, reason: str) -> None:
        if self._closing:  # our own close()
            return
        self._fail_acks(MqttNotConnected(f"connection lost: {reason}", device=self.name))
        if self._state is ConnectionState.CONNECTED:
            self._note_error(MqttNotConnected(f"connection lost: {reason}", device=self.name))
            self._set_state(ConnectionState.DISCONNECTED)

    def _note_error(self, error: MqttError) -> None:
        # Log the transition into a failure once; repeats of the same failure at debug.
        if self._last_error is None or type(self._last_error) is not type(error):
            _log.warning("%s", error)
        else:
            _log.debug("%s (again)", error)
        self._last_error = error

    def _on_ack(self, mid: int, failed: bool, reason: str) -> None:
        fut = self._acks.pop(mid, None)
        if fut is None or fut.done():
            return
        if failed:
            fut.set_exception(MqttRefused(f"broker refused message {mid}: {reason}", device=self.name))
        else:
            fut.set_result(None)

    def _dispatch(self, msg: Message) -> None:
        for sub in list(self._subs):
            if sub.closed or not mqtt.topic_matches_sub(sub.topic_filter, msg.topic):
                continue
            try:
                sub.handler(msg)
            except Exception:
                # A handler bug must not stop delivery to the other handlers or kill the bridge.
                self.handler_errors += 1
                _log.exception("%s: handler for %s failed on %s", self.name, sub.topic_filter, msg.topic)
