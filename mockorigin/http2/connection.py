"""One HTTP/2 connection (over TLS with ALPN ``h2``, or cleartext with prior knowledge).

Theory of operation. The h2 library reads frames and keeps the protocol's state
(streams, flow-control windows, HPACK); this protocol turns its events into
streams, each running one script (``stream.Stream``), and writes what the library
has to send after every turn: a batch of events, a timer, a window update.
Frames a script asks for that the library would refuse (``h2:`` steps) are
written by ``frames``, after what the library already queued, so order holds.

The connection's own life: an idle connection (no open stream) is closed after
``idle_timeout`` with GOAWAY; ``close`` sends GOAWAY(NO_ERROR) and then FIN
(after close_notify over TLS), reading on for ``linger`` so a client still
sending does not turn the FIN into an RST; ``reset`` is an RST of TCP. Each
stream is journaled when it ends; a connection that carried no stream gets an
entry of its own (its SETTINGS, how it ended).
"""

from __future__ import annotations

from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import (
    ConnectionTerminated, DataReceived, RemoteSettingsChanged, RequestReceived, StreamEnded, StreamReset, WindowUpdated,
)
from h2.exceptions import ProtocolError
from h2.settings import SettingCodes
from twisted.internet import error as net_error
from twisted.internet.interfaces import IPushProducer
from twisted.internet.protocol import Protocol, connectionDone
from zope.interface import implementer

from mockorigin import interpreter
from mockorigin.http2 import frames
from mockorigin.http2.ending import H2Ending
from mockorigin.http2.request import choose_script, request_from
from mockorigin.http2.stream import Stream
from mockorigin.interpreter.request import Body
from mockorigin.observe.record import ExchangeRecord
from mockorigin.transport.tcpwrite import write_now

CONNECTION_WINDOW = 16 * 1024 * 1024  # a stream holding back its window (hang read: false) must not starve the others


@implementer(IPushProducer)
class H2OriginProtocol(H2Ending, Protocol):
    def __init__(self, wire, accepted_at: float, connection_id: int):
        self.wire = wire
        self.factory = wire.origin
        self.clock = self.factory.clock
        self.accepted_at = accepted_at
        self.connection_id = connection_id
        self.streams: dict[int, Stream] = {}
        self.requests = 0
        self.highest_stream = 0
        self.window_updates = 0
        self.client_settings: dict[str, int] = {}
        self.client_goaway: dict | None = None
        self.goaway_last: int | None = None
        self.ended_by_server: str | None = None
        self.server_end: tuple[str, float, str] | None = None
        self.raw_written = False
        self.write_paused = False
        self.closing_why: str | None = None
        self.lingering: float | None = None
        self.linger_timer = None
        self.deadline: tuple[float, object] | None = None
        self.deadline_slot: int | None = None
        self.problems: list[str] = []

    # --- the connection -------------------------------------------------------------

    def connectionMade(self) -> None:
        peer = self.transport.getPeer()
        self.peer = f"{getattr(peer, 'host', '?')}:{getattr(peer, 'port', '?')}"
        summary = getattr(self.transport, "summary", None)
        self.tls = summary() if summary is not None else None
        self.name = "h2" if self.tls is not None else "h2c"
        self.factory.connections.add(self)
        try:
            self.transport.setTcpNoDelay(True)
        except (AttributeError, OSError, NotImplementedError):
            pass
        self.transport.registerProducer(self, True)
        self.h2 = H2Connection(H2Configuration(client_side=False, header_encoding=None, normalize_inbound_headers=False))
        self.h2.initiate_connection()
        self.h2.increment_flow_control_window(CONNECTION_WINDOW - 65535)
        self.flush()
        self._idle()

    def dataReceived(self, data: bytes) -> None:
        if self.lingering is not None:
            self._linger()
            return
        if self.ended_by_server is not None:
            return
        try:
            events = self.h2.receive_data(data)
        except ProtocolError as error:  # h2 has queued a GOAWAY with the error's code
            self.problems.append(f"the client broke HTTP/2: {error}")
            for stream in self.streams.values():
                stream.record.problem(f"the client broke HTTP/2: {error}")
            self.flush()
            self.close("server closed", f"the client broke HTTP/2: {error}", goaway=False)
            return
        for event in events:
            handler = _EVENTS.get(type(event))
            if handler is not None:
                handler(self, event)
        self.flush()

    def readConnectionLost(self) -> None:
        """The client's FIN: an HTTP/2 client that is done with the connection."""
        self.transport.loseConnection()

    def connectionLost(self, reason=connectionDone) -> None:
        self._cancel_linger()
        self.factory.deadlines.forget(self)
        reset = reason.check(net_error.ConnectionLost) is not None
        how = self.ended_by_server or ("client reset" if reset else "client closed")
        for stream in list(self.streams.values()):
            if stream.script is not None:
                stream.script.close()
                stream.script = None
            if self.ended_by_server is None:
                (stream.record.client_reset if reset else stream.record.client_closed)(stream.exchange.stage)
            stream.finish(how, f"the connection ended ({how})", kept=False)
        if self.requests == 0:
            self._journal_connection(how, reset)
        self.factory.forget(self, self._summary(how, reset))

    # --- the h2 library's events ------------------------------------------------------

    def _request(self, event: RequestReceived) -> None:
        stream_id = event.stream_id
        self.highest_stream = max(self.highest_stream, stream_id)
        self.deadline = None
        record = ExchangeRecord(self.connection_id, self.factory.state.next_request_id(), self.peer, self.accepted_at, self.clock)
        record.protocol, record.tls = self.name, self.tls
        record.head_started()
        request = request_from(event.headers, event.stream_ended is not None)
        self.requests += 1
        if self.goaway_last is not None and stream_id > self.goaway_last or self.closing_why is not None:
            record.head(request, None)
            record.unanswered = f"opened after the server's GOAWAY (last stream {self.goaway_last})"
            record.h2 = {"stream": stream_id, "ended": "ignored", "client_settings": dict(self.client_settings), "window_updates": {"stream": 0, "connection": 0},
                         "refused": None, "retry_of": None, "client_goaway": self.client_goaway}
            record.ended("completed", "not answered")
            self.factory.journal.add(record)
            return
        behaviour, params, steps = choose_script(self.factory.state, request, record)
        limits = self.factory.limits_for(behaviour)
        record.head(request, behaviour.name if behaviour is not None else None)
        body = Body(limits.body_prefix_kept)
        if not request.has_body:
            body.complete = True
            record.body_complete_with(body.sha256)
        exchange = interpreter.Exchange(request, record.id, params, body, self.clock.seconds)
        stream = self.streams[stream_id] = Stream(self, stream_id, record, exchange, interpreter.run(steps, exchange), limits)
        stream.retry_of = self.wire.retry_of(request, self.clock.seconds())
        stream.advance()

    def _data(self, event: DataReceived) -> None:
        stream = self.streams.get(event.stream_id)
        if stream is None:
            self._acknowledge(event.flow_controlled_length, event.stream_id)
            return
        stream.body_arrived(event.data)
        stream.unacknowledged += event.flow_controlled_length
        self.acknowledge(stream)

    def _ended(self, event: StreamEnded) -> None:
        stream = self.streams.get(event.stream_id)
        if stream is not None:
            stream.body_ended()
            stream.maybe_finish()

    def _reset(self, event: StreamReset) -> None:
        stream = self.streams.get(event.stream_id)
        if stream is not None:
            stream.client_reset(event.error_code)

    def _window(self, event: WindowUpdated) -> None:
        if event.stream_id == 0:
            self.window_updates += 1
        elif event.stream_id in self.streams:
            self.streams[event.stream_id].window_updates += 1
        self._unblock()

    def _settings(self, event: RemoteSettingsChanged) -> None:
        for code, change in event.changed_settings.items():
            try:
                name = SettingCodes(code).name
            except ValueError:
                name = f"0x{code:x}"
            self.client_settings[name] = change.new_value
        self._unblock()

    def _goaway(self, event: ConnectionTerminated) -> None:
        self.client_goaway = {"error": frames.error_name(int(event.error_code)), "last_stream_id": event.last_stream_id}
        if not self.streams:
            self.close("completed", "the client sent GOAWAY", goaway=False)

    # --- what the streams ask ------------------------------------------------------------

    def acknowledge(self, stream: Stream) -> None:
        if stream.unacknowledged and not stream.holding_window:
            self._acknowledge(stream.unacknowledged, stream.id)
            stream.unacknowledged = 0

    def _acknowledge(self, size: int, stream_id: int) -> None:
        try:
            self.h2.acknowledge_received_data(size, stream_id)
        except Exception:  # the stream is closed in h2's eyes: the connection window was still credited
            pass

    def pump(self, stream: Stream) -> bool:
        """Send the stream's queued body as its windows allow; True once the queue is empty."""
        response = stream.response
        queue = response.queue_
        while queue:
            data, end = queue[0]
            try:
                if data is None:  # END: trailers (or nothing) with END_STREAM
                    queue.popleft()
                    if end:
                        self.h2.send_headers(stream.id, end, end_stream=True)
                    else:
                        self.h2.end_stream(stream.id)
                    stream.local_ended = True
                    continue
                window = min(self.h2.local_flow_control_window(stream.id), self.h2.max_outbound_frame_size)
                if window <= 0:
                    return False
                piece = data[:window]
                last = len(piece) == len(data)
                self.h2.send_data(stream.id, piece, end_stream=end and last)
            except Exception as error:  # closed under us (the client reset it, or sent GOAWAY)
                stream.record.problem(f"h2 would not send it at {stream.exchange.stage}: {error}")
                response.drop()
                stream.local_ended = True
                return True
            response.body_sent += len(piece)
            if last:
                queue.popleft()
                if end:
                    stream.local_ended = True
            else:
                queue[0] = (data[len(piece):], end)
        return True

    def _unblock(self) -> None:
        for stream in list(self.streams.values()):
            if stream.response.pending and not self.pump(stream):
                continue
            if stream.blocked and not self.write_paused:
                stream.blocked = False
                stream.advance()
            elif stream.script is None:
                stream.maybe_finish()

    def flush(self) -> None:
        data = self.h2.data_to_send()
        if data:
            write_now(self.transport, data)

    def write_frames(self, data: bytes) -> None:
        """Frames of our own, after what the library has queued."""
        self.flush()
        write_now(self.transport, data)

    def write_raw(self, data: bytes) -> None:
        self.raw_written = True
        self.write_frames(data)

    def goaway(self, code: int, last_stream_id: int, debug: bytes = b"") -> None:
        self.write_frames(frames.goaway(last_stream_id, code, debug))
        self.goaway_last = last_stream_id if self.goaway_last is None else min(self.goaway_last, last_stream_id)
        for stream in self.streams.values():
            if stream.id > last_stream_id and stream.refused_as is None:
                self.refused(stream, f"GOAWAY (last stream {last_stream_id})")

    def refused(self, stream: Stream, how: str) -> None:
        stream.refused_as = how
        self.wire.remember_refused(stream.exchange.request, stream.record.id, self.clock.seconds())

    def journal(self, record: ExchangeRecord) -> None:
        self.factory.journal.add(record)
        if not self.streams:
            if self.closing_why is not None:
                self.close("completed", self.closing_why)
            elif self.ended_by_server is None:
                self._idle()

    # --- the transport's flow control --------------------------------------------------------

    def pauseProducing(self) -> None:
        self.write_paused = True

    def resumeProducing(self) -> None:
        self.write_paused = False
        self._unblock()
        self.flush()

    def stopProducing(self) -> None:
        self.write_paused = True


_EVENTS = {
    RequestReceived: H2OriginProtocol._request,
    DataReceived: H2OriginProtocol._data,
    StreamEnded: H2OriginProtocol._ended,
    StreamReset: H2OriginProtocol._reset,
    WindowUpdated: H2OriginProtocol._window,
    RemoteSettingsChanged: H2OriginProtocol._settings,
    ConnectionTerminated: H2OriginProtocol._goaway,
}
