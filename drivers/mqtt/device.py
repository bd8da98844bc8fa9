"""The generic MQTT device: a topic map, a base topic and a broker connection make a device.

Each mapped value sits behind a :class:`~drivers.base.Monitor`, so a value that stops arriving
turns into :class:`~drivers.errors.StaleValue` instead of lingering as a number. A payload that
cannot be decoded leaves the previous value (and its age) untouched and is counted in the health.

Retained messages are not taken as current: the broker hands them out on subscribe however old
they are (a charger unplugged from the mains yesterday still has its last state retained). Only
values that arrive live make a value fresh; the retained ones are shown by ``report`` as last known.

A write publishes the command and then waits for the device's own state topic to show the new
value; a device that ignores it gives :class:`~drivers.errors.WriteVerifyError`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any

from agent.clock import Clock
from drivers.base import DeviceIdentity, DeviceLimits, DeviceReport, Health, Monitor, Reading
from drivers.errors import DeviceUnavailable, DriverConfigError, DriverError, StaleValue, WriteVerifyError
from drivers.mqtt.client import Message, MqttClient, Subscription
from drivers.mqtt.codec import check_write, decode_value, encode_write, parse_document
from drivers.mqtt.errors import MqttError, PayloadError
from drivers.mqtt.jsonpath import PathNotFound, parse_path
from drivers.mqtt.topicmap import DISCHARGE_WRITE, Scalar, TopicMap, ValueSpec, VerifySpec, map_key

_log = logging.getLogger("drivers.mqtt.device")

# Which DeviceLimits field bounds each numeric write of the capability maps.
_LIMIT_OF_WRITE = {"setpoint_c": "setpoint_c", "current_limit_a": "ev_current_a"}


class MqttDevice(DeviceIdentity):
    """One configured device on a broker (see the module docstring)."""

    def __init__(
        self,
        name: str,
        topic_map: TopicMap,
        base_topic: str,
        client: MqttClient,
        clock: Clock,
        *,
        stale_after_s: float = 60.0,
        limits: DeviceLimits | None = None,
        driver: str = "mqtt",
    ) -> None:
        self._name = name
        self._driver = driver
        self.topic_map = topic_map
        self.base_topic = base_topic
        self.client = client
        self._clock = clock
        self.limits = limits or DeviceLimits()
        self._health = Health(name, clock)
        self._monitors: dict[str, Monitor[Scalar]] = {}
        self._by_topic: dict[str, list[tuple[str, ValueSpec]]] = defaultdict(list)
        for value_name, spec in topic_map.values.items():
            self._monitors[value_name] = Monitor(
                clock,
                name=value_name,
                unit=spec.unit,
                max_age_s=spec.stale_after_s or stale_after_s,
                device=name,
            )
            self._by_topic[self.topic(spec.topic)].append((value_name, spec))
        self._retained: dict[str, Scalar] = {}
        self._errors: dict[str, str] = {}
        self._watchers: dict[str, list[asyncio.Queue[Scalar]]] = defaultdict(list)
        self._subs: list[Subscription] = []
        self._unsubscribed: list[str] = []
        self._offline = False
        self._started_s = clock.monotonic_s()
        self._warmup_s = max(m.max_age_s for m in self._monitors.values())
        self.payload_errors = 0
        from drivers.mqtt.roles import capabilities_for  # roles import this module

        self._capabilities = capabilities_for(self)

    # -- Device protocol ------------------------------------------------------------------------

    def topic(self, template: str) -> str:
        return template.replace("{base}", self.base_topic)

    async def start(self) -> None:
        """Subscribe to every mapped topic; a broker that is down now is retried by refresh."""
        await self.client.start()
        self._started_s = self._clock.monotonic_s()
        self._unsubscribed = list(self._by_topic)
        if self.topic_map.availability is not None:
            self._unsubscribed.append(self.topic(self.topic_map.availability.topic))
        await self._subscribe_pending()

    async def _subscribe_pending(self) -> None:
        pending, self._unsubscribed = self._unsubscribed, []
        for i, topic in enumerate(pending):
            try:
                self._subs.append(await self.client.subscribe(topic, self._on_message))
            except MqttError as e:
                self._unsubscribed = pending[i:]
                self._health.record_failure(e)
                return

    async def refresh(self) -> None:
        """Check that every required value is fresh; raise StaleValue (recorded in health) if not."""
        if self._unsubscribed:
            await self._subscribe_pending()
        stale: list[StaleValue] = []
        for value_name, spec in self.topic_map.values.items():
            if spec.optional:
                continue
            try:
                self.reading(value_name)
            except StaleValue as e:
                stale.append(e)
        if not stale:
            self._health.record_ok()
            return
        broker = "" if self.client.connected else f"; broker {self.client.state}"
        error = StaleValue(f"{len(stale)} value(s) stale, first: {stale[0]}{broker}", device=self._name)
        # Right after start nothing has arrived yet: that is "not read yet" (health stays
        # unknown, no warning logged) until the values have had one staleness period to come.
        warming = self._clock.monotonic_s() - self._started_s < self._warmup_s
        if not (warming and not any(m.has_value for m in self._monitors.values())):
            self._health.record_failure(error)
        raise error

    async def stop(self) -> None:
        """Hand the device back (the map's ``on_stop`` command) and drop the subscriptions."""
        on_stop = self.topic_map.on_stop
        if on_stop is not None:
            try:
                await self.client.publish(self.topic(on_stop.topic), on_stop.payload, qos=1)
            except MqttError as e:
                _log.warning("%s: could not send the stop command: %s", self._name, e)
        subs, self._subs = self._subs, []
        for sub in subs:
            sub.close()
        for queues in self._watchers.values():
            queues.clear()

    def report(self) -> DeviceReport:
        values: dict[str, Reading[Any]] = {}
        errors: dict[str, str] = {}
        for value_name in self._monitors:
            try:
                values[value_name] = self.reading(value_name)
            except StaleValue as e:
                errors[value_name] = self._errors.get(value_name, str(e))
                if value_name in self._retained:
                    errors[value_name] += f" (retained, age unknown: {self._retained[value_name]!r})"
        info = {
            "topic_map": self.topic_map.name,
            "base_topic": self.base_topic,
            "broker": f"{self.client.name} ({self.client.state})",
            "payload_errors": str(self.payload_errors),
        }
        return DeviceReport(
            self._name,
            self._driver,
            info,
            values,
            errors,
            self._health.snapshot(),
            self._capabilities.provided(),
        )

    # -- reads ----------------------------------------------------------------------------------

    def reading(self, value_name: str) -> Reading[Scalar]:
        """The latest live value; StaleValue if too old, never received, or the device is offline."""
        if self._offline:
            raise StaleValue(f"{value_name}: the device reported itself offline", device=self._name)
        return self._monitors[value_name].get()

    def float_reading(self, value_name: str) -> Reading[float]:
        r = self.reading(value_name)
        assert isinstance(r.value, float)  # the map's type was checked when it was loaded
        return Reading(r.value, r.unit, r.source, r.at, r.mono_s)

    def bool_reading(self, value_name: str) -> Reading[bool]:
        r = self.reading(value_name)
        assert isinstance(r.value, bool)
        return Reading(r.value, r.unit, r.source, r.at, r.mono_s)

    def str_reading(self, value_name: str) -> Reading[str]:
        r = self.reading(value_name)
        return Reading(str(r.value), r.unit, r.source, r.at, r.mono_s)

    def _on_message(self, msg: Message) -> None:
        avail = self.topic_map.availability
        if avail is not None and msg.topic == self.topic(avail.topic):
            self._on_availability(msg, avail.format, avail.path, avail.offline)
        first_error: PayloadError | None = None
        for value_name, spec in self._by_topic.get(msg.topic, ()):
            try:
                value = decode_value(spec, msg.payload, name=value_name, topic=msg.topic, device=self._name)
            except PayloadError as e:
                self.payload_errors += 1
                self._errors[value_name] = str(e)
                first_error = first_error or e
                continue
            self._errors.pop(value_name, None)
            if msg.retain:
                self._retained[value_name] = value
                continue
            self._monitors[value_name].set(value, f"mqtt:{msg.topic}")
            for queue in self._watchers.get(value_name, ()):
                queue.put_nowait(value)
        if first_error is not None:
            self._health.record_failure(first_error)

    def _on_availability(self, msg: Message, fmt: str, path: str, offline: str) -> None:
        try:
            state = map_key(parse_path(path).find(parse_document(msg.payload, fmt)))
        except (ValueError, PathNotFound) as e:
            _log.debug("%s: unreadable availability message on %s: %s", self._name, msg.topic, e)
            return
        was, self._offline = self._offline, state == offline
        if self._offline and not was:
            _log.warning("%s: device reported itself offline", self._name)
            for monitor in self._monitors.values():
                monitor.clear()
        elif was and not self._offline:
            _log.info("%s: device back online", self._name)

    # -- writes ---------------------------------------------------------------------------------

    async def write(self, value_name: str, value: Scalar) -> None:
        """Send a command and wait until the device's state shows it (else WriteVerifyError)."""
        spec = self.topic_map.writes.get(value_name)
        if spec is None:
            raise DriverError(
                f"topic map {self.topic_map.name} has no write for {value_name}", device=self._name
            )
        configured: tuple[float, float] | None = None
        if spec.type == "float":
            configured = self._configured_range(value_name)
        sent = check_write(spec, value, name=value_name, device=self._name, configured=configured)
        if self._offline:
            # Its last will said so: nothing would answer the read-back, and waiting for it
            # would hold the whole dispatch (every other device) for the write timeout.
            error = DeviceUnavailable(
                f"{value_name}: the device reported itself offline; nothing sent", device=self._name
            )
            self._health.record_failure(error)
            raise error
        verify = spec.verify
        if spec.when_zero is not None and sent == 0 and spec.when_zero.verify is not None:
            verify = spec.when_zero.verify
        wanted: Scalar = verify.expect if verify.expect is not None else sent
        queue: asyncio.Queue[Scalar] = asyncio.Queue()
        # Watch before publishing: a fast device can answer before publish() returns.
        self._watchers[verify.value].append(queue)
        try:
            await self.client.publish(
                self.topic(spec.topic), encode_write(spec, sent), qos=spec.qos, retain=spec.retain
            )
            await self._await_readback(queue, verify, wanted, value_name)
        except DriverError as e:
            self._health.record_failure(e)
            raise
        finally:
            watchers = self._watchers[verify.value]
            # stop() clears the watchers while a write may still wait for its read-back; a
            # ValueError here would replace the task's CancelledError (the supervisor then
            # restarted the control cycle after shutdown, against a closed ledger).
            if queue in watchers:
                watchers.remove(queue)

    def _configured_range(self, value_name: str) -> tuple[float, float]:
        """The site's limits for a numeric write; none configured means the write is refused."""
        if value_name == DISCHARGE_WRITE:
            discharge_a = self.limits.ev_discharge_current_a
            if discharge_a is None:
                raise DriverConfigError(
                    "no configured V2G limit (v2g / v2g_max_kw): the charger is not asked to discharge",
                    device=self._name,
                    field=f"writes.{value_name}",
                )
            return -discharge_a, 0.0
        kind = _LIMIT_OF_WRITE.get(value_name)
        bounds = getattr(self.limits, kind, None) if kind else None
        if bounds is None:
            raise DriverConfigError(
                f"no configured limit for {value_name} writes ({kind or 'unknown kind'}): nothing was sent",
                device=self._name,
                field=f"writes.{value_name}",
            )
        low, high = bounds
        return float(low), float(high)

    async def _await_readback(
        self, queue: asyncio.Queue[Scalar], verify: VerifySpec, wanted: Scalar, value_name: str
    ) -> None:
        got: Scalar | None = None
        try:
            async with asyncio.timeout(verify.timeout_s):
                while True:
                    got = await queue.get()
                    if _matches(got, wanted, verify.tolerance):
                        return
        except TimeoutError as e:
            raise WriteVerifyError(
                f"{value_name} did not stick: {verify.value} not {wanted!r} within {verify.timeout_s:g} s",
                device=self._name,
                wanted=wanted,
                got=got,
            ) from e


def _matches(got: Scalar, wanted: Scalar, tolerance: float) -> bool:
    if isinstance(wanted, bool) or isinstance(got, bool) or isinstance(wanted, str) or isinstance(got, str):
        return got == wanted
    return abs(float(got) - float(wanted)) <= tolerance
