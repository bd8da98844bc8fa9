"""A small MQTT broker (3.1.1 and 5) for the zero-setup demo when Mosquitto is not installed.

Enough of the protocol for hems on loopback: QoS 0 and 1 (QoS 2 publishes are accepted and
forwarded at QoS 1), retained messages, last wills, ``+``/``#`` filters, and persistent sessions
(clean session false / clean start false) whose subscriptions and unacknowledged QoS 1 messages
survive a disconnect and are sent again, with DUP, on reconnect. Version 5 properties are read
and skipped; none are sent. No authentication, no TLS: it binds to loopback for the demo only
(``docs``: production and tests use Mosquitto).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass, field

_log = logging.getLogger("hil.broker")

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 10, 11, 12, 13, 14
MAX_PACKET = 2 * 1024 * 1024  # larger packets close the connection (the 1 MB tender fault fits)
MAX_QUEUED = 100_000
V5 = 5


class ProtocolError(Exception):
    pass


def topic_matches(flt: str, topic: str) -> bool:
    if topic.startswith("$") and not flt.startswith("$"):
        return False
    f_parts, t_parts = flt.split("/"), topic.split("/")
    for i, f in enumerate(f_parts):
        if f == "#":
            return True
        if i >= len(t_parts) or (f not in ("+", t_parts[i])):
            return False
    return len(f_parts) == len(t_parts)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n % 128, n // 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _str(s: str | bytes) -> bytes:
    b = s.encode() if isinstance(s, str) else s
    return len(b).to_bytes(2, "big") + b


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def u8(self) -> int:
        if self.pos >= len(self.data):
            raise ProtocolError("packet too short")
        self.pos += 1
        return self.data[self.pos - 1]

    def u16(self) -> int:
        return (self.u8() << 8) | self.u8()

    def raw(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ProtocolError("packet too short")
        self.pos += n
        return self.data[self.pos - n : self.pos]

    def blob(self) -> bytes:
        return self.raw(self.u16())

    def text(self) -> str:
        return self.blob().decode("utf-8", errors="strict")

    def varint(self) -> int:
        value, mult = 0, 1
        for _ in range(4):
            b = self.u8()
            value += (b & 0x7F) * mult
            if not b & 0x80:
                return value
            mult *= 128
        raise ProtocolError("malformed variable length")

    def properties(self) -> dict[int, int]:
        """Skip v5 properties, keeping the integer ones (session expiry is 0x11)."""
        length = self.varint()
        end = self.pos + length
        found: dict[int, int] = {}
        while self.pos < end:
            ident = self.varint()
            if ident in (0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A):
                found[ident] = self.u8()
            elif ident in (0x13, 0x21, 0x22, 0x23):
                found[ident] = self.u16()
            elif ident in (0x02, 0x11, 0x18, 0x27):
                found[ident] = int.from_bytes(self.raw(4), "big")
            elif ident == 0x0B:
                found[ident] = self.varint()
            elif ident == 0x26:
                self.blob()
                self.blob()
            else:  # strings and binary data
                self.blob()
        self.pos = end
        return found


@dataclass
class _Message:
    topic: str
    payload: bytes
    qos: int
    retain: bool = False


@dataclass
class _Session:
    client_id: str
    persistent: bool
    subs: dict[str, int] = field(default_factory=dict)
    queue: deque[_Message] = field(default_factory=deque)  # waiting while offline
    inflight: dict[int, _Message] = field(default_factory=dict)  # sent, not acknowledged
    next_id: int = 1
    conn: _Conn | None = None

    def packet_id(self) -> int:
        for _ in range(65535):
            pid, self.next_id = self.next_id, self.next_id % 65535 + 1
            if pid not in self.inflight:
                return pid
        raise ProtocolError("no free packet id")


class _Conn:
    def __init__(
        self, broker: MiniBroker, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.broker, self.reader, self.writer = broker, reader, writer
        self.version = 4
        self.session: _Session | None = None
        self.will: _Message | None = None
        self.keepalive_s = 60

    def send(self, ptype: int, flags: int, body: bytes) -> None:
        self.writer.write(bytes([(ptype << 4) | flags]) + _varint(len(body)) + body)

    def publish(
        self, msg: _Message, qos: int, pid: int | None, *, dup: bool = False, retain: bool = False
    ) -> None:
        body = _str(msg.topic)
        if qos > 0 and pid is not None:
            body += pid.to_bytes(2, "big")
        if self.version == V5:
            body += b"\x00"
        self.send(PUBLISH, (0x08 if dup else 0) | (qos << 1) | int(retain), body + msg.payload)

    async def read_packet(self) -> tuple[int, int, bytes]:
        head = await self.reader.readexactly(1)
        length, mult = 0, 1
        for _ in range(4):
            b = (await self.reader.readexactly(1))[0]
            length += (b & 0x7F) * mult
            if not b & 0x80:
                break
            mult *= 128
        if length > MAX_PACKET:
            raise ProtocolError(f"packet of {length} bytes")
        return head[0] >> 4, head[0] & 0x0F, await self.reader.readexactly(length)


class MiniBroker:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.sessions: dict[str, _Session] = {}
        self.retained: dict[str, _Message] = {}
        self._server: asyncio.Server | None = None
        self._conns: set[_Conn] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)

    async def stop(self) -> None:
        """Close the listener and every connection (no wills: a broker going down sends none)."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for conn in list(self._conns):
            conn.will = None
            conn.writer.close()
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2.0)
        # A restarted broker without persistence forgets its clean sessions; persistent ones stay.
        for cid in [c for c, s in self.sessions.items() if not s.persistent]:
            del self.sessions[cid]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = _Conn(self, reader, writer)
        self._conns.add(conn)
        clean = False
        try:
            ptype, _, body = await asyncio.wait_for(conn.read_packet(), 10.0)
            if ptype != CONNECT:
                return
            self._connect(conn, body)
            while True:
                ptype, flags, body = await asyncio.wait_for(
                    conn.read_packet(), conn.keepalive_s * 1.5 or None
                )
                if ptype == DISCONNECT:
                    clean = True
                    return
                self._handle(conn, ptype, flags, body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError, ProtocolError, UnicodeError) as e:
            _log.debug("connection closed: %r", e)
        finally:
            self._conns.discard(conn)
            self._closed(conn, clean)
            writer.close()

    def _connect(self, conn: _Conn, body: bytes) -> None:
        r = _Reader(body)
        if r.text() not in ("MQTT", "MQIsdp"):
            raise ProtocolError("not MQTT")
        conn.version = r.u8()
        flags = r.u8()
        conn.keepalive_s = r.u16()
        expiry = 0
        if conn.version == V5:
            expiry = r.properties().get(0x11, 0)
        client_id = r.text() or f"anon-{id(conn)}"
        if flags & 0x04:
            if conn.version == V5:
                r.properties()
            topic, payload = r.text(), r.blob()
            conn.will = _Message(topic, payload, min((flags >> 3) & 3, 1), bool(flags & 0x20))
        clean_start = bool(flags & 0x02)
        persistent = (expiry > 0) if conn.version == V5 else not clean_start
        old = self.sessions.get(client_id)
        if old is not None and old.conn is not None:  # a second connection takes the session over
            old.conn.will = None
            old.conn.writer.close()
            old.conn = None
        present = old is not None and not clean_start
        session = old if present and old is not None else _Session(client_id, persistent)
        session.persistent = persistent
        self.sessions[client_id] = session
        session.conn = conn
        conn.session = session
        ack = bytes([int(present), 0])
        conn.send(CONNACK, 0, ack + (b"\x00" if conn.version == V5 else b""))
        for pid, msg in session.inflight.items():
            conn.publish(msg, msg.qos, pid, dup=True)
        while session.queue:
            self._deliver(session, session.queue.popleft())

    def _handle(self, conn: _Conn, ptype: int, flags: int, body: bytes) -> None:
        session = conn.session
        assert session is not None
        r = _Reader(body)
        if ptype == PUBLISH:
            qos, retain = (flags >> 1) & 3, bool(flags & 1)
            topic = r.text()
            pid = r.u16() if qos else None
            if conn.version == V5:
                r.properties()
            msg = _Message(topic, body[r.pos :], min(qos, 1), retain)
            if qos == 1 and pid is not None:
                conn.send(PUBACK, 0, pid.to_bytes(2, "big"))
            elif qos == 2 and pid is not None:
                conn.send(PUBREC, 0, pid.to_bytes(2, "big"))
            self.route(msg)
        elif ptype == PUBACK:
            session.inflight.pop(r.u16(), None)
        elif ptype == PUBREL:
            conn.send(PUBCOMP, 0, r.u16().to_bytes(2, "big"))
        elif ptype == SUBSCRIBE:
            pid = r.u16()
            if conn.version == V5:
                r.properties()
            codes = bytearray()
            while r.pos < len(body):
                flt, opts = r.text(), r.u8()
                granted = min(opts & 3, 1)
                session.subs[flt] = granted
                codes.append(granted)
                for msg in list(self.retained.values()):
                    if topic_matches(flt, msg.topic):
                        self._send(session, msg, min(granted, msg.qos), retain=True)
            props = b"\x00" if conn.version == V5 else b""
            conn.send(SUBACK, 0, pid.to_bytes(2, "big") + props + bytes(codes))
        elif ptype == UNSUBSCRIBE:
            pid = r.u16()
            if conn.version == V5:
                r.properties()
            n = 0
            while r.pos < len(body):
                session.subs.pop(r.text(), None)
                n += 1
            tail = b"\x00" + bytes(n) if conn.version == V5 else b""
            conn.send(UNSUBACK, 0, pid.to_bytes(2, "big") + tail)
        elif ptype == PINGREQ:
            conn.send(PINGRESP, 0, b"")

    def route(self, msg: _Message) -> None:
        if msg.retain:
            if msg.payload:
                self.retained[msg.topic] = msg
            else:
                self.retained.pop(msg.topic, None)
        for session in list(self.sessions.values()):
            self._deliver(session, msg)

    def _deliver(self, session: _Session, msg: _Message) -> None:
        qos = max((q for f, q in session.subs.items() if topic_matches(f, msg.topic)), default=None)
        if qos is None:
            return
        self._send(session, msg, min(qos, msg.qos))

    def _send(self, session: _Session, msg: _Message, qos: int, *, retain: bool = False) -> None:
        out = _Message(msg.topic, msg.payload, qos)
        if session.conn is None:
            if session.persistent and qos > 0 and len(session.queue) < MAX_QUEUED:
                session.queue.append(out)
            return
        pid = None
        if qos > 0:
            pid = session.packet_id()
            session.inflight[pid] = out
        session.conn.publish(out, qos, pid, retain=retain)

    def _closed(self, conn: _Conn, clean: bool) -> None:
        session = conn.session
        if session is None or session.conn is not conn:
            return
        session.conn = None
        if not session.persistent:
            self.sessions.pop(session.client_id, None)
        will, conn.will = conn.will, None
        if will is not None and not clean:
            self.route(will)
