"""``write_now`` on real loopback TCP connections, in the test process's reactor.

What must hold: bytes leave at once when nothing is queued; what the kernel does
not take is queued behind, and later writes queue behind that, so order is kept;
a peer that is gone makes no exception in the caller but the usual connectionLost.
"""

from __future__ import annotations

import socket
import struct

import pytest_twisted
from twisted.internet import defer, reactor, tcp
from twisted.internet.error import ConnectionLost
from twisted.internet.protocol import Factory, Protocol

from mockorigin.transport.tcpwrite import write_buffer_empty, write_now


class Writer(Protocol):
    def __init__(self):
        self.connected_deferred = defer.Deferred()
        self.lost = defer.Deferred()

    def connectionMade(self):
        self.connected_deferred.callback(self.transport)

    def connectionLost(self, reason):
        self.lost.callback(reason.value)  # the exception, not a Failure: the Deferred succeeds


@defer.inlineCallbacks
def connection(receive_buffer: int | None = None):
    """(server transport, the Writer, a blocking client socket) over loopback."""
    writer = Writer()
    port = reactor.listenTCP(0, Factory.forProtocol(lambda: writer), interface="127.0.0.1")
    client = socket.socket()
    if receive_buffer:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    client.setblocking(False)
    try:
        client.connect(("127.0.0.1", port.getHost().port))
    except BlockingIOError:
        pass
    transport = yield writer.connected_deferred
    yield port.stopListening()
    client.setblocking(True)
    client.settimeout(10)
    return transport, writer, client


def read_exactly(client: socket.socket, count: int) -> bytes:
    data = bytearray()
    while len(data) < count:  # bounded by the socket's timeout
        chunk = client.recv(count - len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)


@pytest_twisted.inlineCallbacks
def test_twisted_still_has_the_fields_write_now_reads():
    transport, writer, client = yield connection()
    try:
        assert type(transport) is tcp.Server
        for name in ("connected", "disconnecting", "_writeDisconnected", "TLS", "dataBuffer", "offset", "_tempDataLen", "socket"):
            assert hasattr(transport, name), name
    finally:
        client.close()
        yield ended(writer)


@pytest_twisted.inlineCallbacks
def test_a_write_with_nothing_queued_leaves_before_the_reactor_turns():
    transport, writer, client = yield connection()
    try:
        write_now(transport, b"at once")
        assert write_buffer_empty(transport)  # the kernel has it; Twisted holds nothing
        assert read_exactly(client, 7) == b"at once"  # read without giving the reactor a turn
    finally:
        client.close()
        yield ended(writer)


@pytest_twisted.inlineCallbacks
def test_what_the_kernel_leaves_is_queued_and_later_writes_queue_behind_it():
    transport, writer, client = yield connection(receive_buffer=4096)
    big = bytes(range(256)) * 16384  # 4 MiB: more than loopback's buffers hold
    try:
        write_now(transport, big)
        assert not write_buffer_empty(transport)  # part of it waits in Twisted's buffer
        received = bytearray(read_exactly(client, 65536))  # room in the kernel again, none made in Twisted's buffer
        write_now(transport, b"after")  # must not overtake what Twisted still holds
        for _ in range(2000):  # bounded: the reactor sends, the test reads
            yield deferLater(0.001)
            client.setblocking(False)
            try:
                while chunk := client.recv(1 << 20):
                    received += chunk
            except BlockingIOError:
                pass
            if len(received) >= len(big) + 5:
                break
        assert bytes(received) == big + b"after"
    finally:
        client.close()
        yield ended(writer)


@pytest_twisted.inlineCallbacks
def test_a_peer_that_reset_gives_connection_lost_not_an_exception():
    transport, writer, client = yield connection()
    transport.pauseProducing()  # the reactor must not read the RST first: write_now is to meet it
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()  # RST, delivered on loopback before close() returns
    assert transport.connected
    write_now(transport, b"x" * 100_000)  # send() fails with ECONNRESET: no exception here
    reason = yield ended(writer)
    assert isinstance(reason, ConnectionLost)


def ended(writer: Writer) -> defer.Deferred:
    """The connection's end, or a TimeoutError after 10 s: no test waits for ever."""
    return writer.lost.addTimeout(10, reactor)


def deferLater(seconds: float) -> defer.Deferred:
    from twisted.internet.task import deferLater as later

    return later(reactor, seconds, lambda: None)


@defer.inlineCallbacks
def timed_exchange(script_yaml: str, request: bytes, until: bytes, turn: bool = False):
    """Serve one behaviour on a real TCP connection with its script's clock a fake one;
    send ``request``, let the server read it, fire the clock, and return what the client
    receives until it ends with ``until`` or the server closes. Unless ``turn``, the
    reactor does not run meanwhile: whatever arrives was sent in the timer's own run."""
    from twisted.internet.task import Clock

    from mockorigin.observe.journal import Journal
    from mockorigin.format.loader import load_text
    from mockorigin.http1 import OriginFactory
    from mockorigin.interpreter.state import ServerState

    clock = Clock()
    factory = OriginFactory(ServerState(load_text(script_yaml)), clock, Journal())
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    client = socket.create_connection(("127.0.0.1", port.getHost().port), timeout=10)
    try:
        client.sendall(request)
        for _ in range(500):  # bounded: until the server has read the whole request
            yield deferLater(0.01)
            protocols = list(factory.connections)
            if protocols and protocols[0].exchange is not None and protocols[0].exchange.body.complete:
                break
        client.settimeout(0.5)
        clock.advance(0.2)  # the wait is over; the reactor does not turn until this function yields
        if turn:
            yield deferLater(0.05)
        received = b""
        while not received.endswith(until):  # bounded by the timeout
            chunk = client.recv(4096)
            if not chunk:
                break
            received += chunk
        return received
    finally:
        client.close()
        yield port.stopListening()
        for _ in range(500):  # bounded: the server sees the close
            if not factory.connections:
                break
            yield deferLater(0.01)


@pytest_twisted.inlineCallbacks
def test_what_a_timer_sends_leaves_when_it_fires_not_on_the_next_turn():
    received = yield timed_exchange(
        "script: [{wait: 200ms}, {interim: 100}, {read_body: {}}, {respond: {status: 200, body: ok}}]",
        b"POST /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi",
        until=b"ok",
    )
    assert received.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n") and received.endswith(b"ok")


@pytest_twisted.inlineCallbacks
def test_a_timed_response_before_a_close_is_sent_whole_not_dropped_by_the_close():
    received = yield timed_exchange(
        "script: [{wait: 200ms}, {respond: {status: 200, body: bye}}, {close: {}}]",
        b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n",
        until=b"bye",  # the FIN itself leaves on the reactor's next turn
    )
    assert received.startswith(b"HTTP/1.1 200 OK\r\n") and received.endswith(b"\r\n\r\nbye")


@pytest_twisted.inlineCallbacks
def test_a_timed_101_goes_before_the_echo_of_a_frame_sent_early():
    from mockorigin.websocket.frames import frame

    handshake = (
        b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: MDEyMzQ1Njc4OWFiY2RlZg==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    received = yield timed_exchange(
        "script: [{wait: 200ms}, {upgrade: {}}]",
        handshake + frame(1, b"early", True, (False, False, False), b"abcd", None),  # the client did not wait for the 101
        until=b"early",
        turn=True,  # the echo is written by the WebSocket session, through Twisted's buffer
    )
    head, _, frames = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 ") and frames == b"\x81\x05early"


@pytest_twisted.inlineCallbacks
def test_a_pipelined_quick_answer_never_overtakes_a_timed_response():
    received = yield timed_exchange(
        "name: slow\nmatch: {path: /slow}\nscript: [{wait: 200ms}, {respond: {status: 200, body: first}}]\n---\n"
        "name: fast\nmatch: {path: /fast}\nscript: [{respond: {status: 200, body: second}}]",
        b"GET /slow HTTP/1.1\r\nHost: h\r\n\r\nGET /fast HTTP/1.1\r\nHost: h\r\n\r\n",
        until=b"second",
    )
    assert received.index(b"first") < received.index(b"HTTP/1.1", 1) and received.endswith(b"second")
