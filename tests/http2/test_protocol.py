"""HTTP/2 on StringTransport + Clock: the h2 library as the client, frames and journal checked.

The connection preface is fed whole and a byte at a time; timings are the fake
clock's. Frames the server writes past the h2 library (``h2:`` steps) are read
with hyperframe and one HPACK decoder, since a conforming client refuses them.
"""

from __future__ import annotations

import h2.config
import h2.connection
import h2.events
import pytest
from hpack import Decoder
from hyperframe.frame import DataFrame, Frame, GoAwayFrame, HeadersFrame, RstStreamFrame, SettingsFrame, WindowUpdateFrame
from twisted.internet.task import Clock

from mockorigin.format.loader import catalogue_path, load_paths, load_text
from mockorigin.http1 import OriginFactory
from mockorigin.http2.select import PREFACE, WireFactory
from mockorigin.interpreter.state import ServerState
from mockorigin.limits import ConnectionLimits
from mockorigin.observe.journal import Journal
from tests.helpers import HalfClosingTransport

CATALOGUE = load_paths([catalogue_path()])


class H2Harness:
    """One connection to an in-memory server, an h2 client, and the raw frames the server sent."""

    def __init__(self, behaviours, byte_by_byte: bool = False, **limits):
        self.clock = Clock()
        self.clock.advance(1_700_000_000)
        self.origin = OriginFactory(ServerState(behaviours), self.clock, Journal(), ConnectionLimits(**limits))
        self.wire = WireFactory(self.origin)
        self.transport = HalfClosingTransport()
        self.protocol = self.wire.buildProtocol(None)
        self.protocol.makeConnection(self.transport)
        self.client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=None))
        self.client.initiate_connection()
        self.byte_by_byte = byte_by_byte
        self.decoder = Decoder()
        self.frames: list[Frame] = []

    def send(self) -> None:
        data = self.client.data_to_send()
        if self.byte_by_byte:
            for index in range(len(data)):
                self.protocol.dataReceived(data[index : index + 1])
        else:
            self.protocol.dataReceived(data)

    def request(self, path: str, method: str = "GET", body: bytes | None = None, headers=(), stream_id: int | None = None) -> int:
        stream_id = stream_id or self.client.get_next_available_stream_id()
        fields = [(":method", method), (":path", path), (":scheme", "http"), (":authority", "localhost"), *headers]
        self.client.send_headers(stream_id, fields, end_stream=body is None)
        if body is not None:
            self.client.send_data(stream_id, body, end_stream=True)
        self.send()
        return stream_id

    def events(self) -> list:
        """What the h2 client made of the server's bytes since the last call."""
        data = self.transport.value()
        self.transport.clear()
        self._record_frames(data)
        events = self.client.receive_data(data)
        if self.client.data_to_send():
            self.send()
        return events

    def raw_frames(self) -> list[Frame]:
        """The frames the server sent since the last call, parsed without judging them."""
        data = self.transport.value()
        self.transport.clear()
        return self._record_frames(data)

    def _record_frames(self, data: bytes) -> list[Frame]:
        found, at = [], 0
        while at + 9 <= len(data):
            frame, length = Frame.parse_frame_header(memoryview(data[at : at + 9]))
            frame.parse_body(memoryview(data[at + 9 : at + 9 + length]))
            if isinstance(frame, HeadersFrame):
                frame.decoded = self.decoder.decode(frame.data, raw=True)
            found.append(frame)
            at += 9 + length
        self.frames += found
        return found

    @property
    def journal(self) -> list[dict]:
        return list(self.origin.journal.entries)


def statuses(events, stream_id: int) -> list[int]:
    found = []
    for event in events:
        if isinstance(event, (h2.events.InformationalResponseReceived, h2.events.ResponseReceived)) and event.stream_id == stream_id:
            found.append(int(dict(event.headers)[b":status"]))
    return found


def body_of(events, stream_id: int) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, h2.events.DataReceived) and e.stream_id == stream_id)


def ended(events, stream_id: int) -> bool:
    return any(isinstance(e, h2.events.StreamEnded) and e.stream_id == stream_id for e in events)


@pytest.mark.parametrize("byte_by_byte", [False, True])
def test_repeated_interims_are_1xx_headers_frames_at_their_times(byte_by_byte):
    h = H2Harness(CATALOGUE, byte_by_byte)
    stream = h.request("/processing?count=3&every=1s")
    assert statuses(h.events(), stream) == [102]
    h.clock.advance(0.999)
    assert statuses(h.events(), stream) == []
    h.clock.advance(0.001)
    events = h.events()
    assert statuses(events, stream) == [102]
    assert [(k, v) for k, v in events[0].headers if k == b"status-uri"] == [(b"status-uri", b"102 </processing/status/2>")]
    h.clock.advance(1)
    h.clock.advance(1)
    events = h.events()
    assert statuses(events, stream) == [102, 200] and body_of(events, stream) == b"done after 3 x 102\n" and ended(events, stream)
    (entry,) = h.journal
    assert [i["status"] for i in entry["interims"]] == [102, 102, 102]
    assert [i["at"] for i in entry["interims"]] == [0.0, 1.0, 2.0] and entry["final"]["at"] == 3.0
    assert entry["protocol"] == "h2c" and entry["request"]["version"] == "2" and entry["h2"]["stream"] == stream
    assert entry["ended"]["how"] == "completed" and entry["h2"]["ended"] == "END_STREAM both ways"
    assert entry["h2"]["client_settings"]["INITIAL_WINDOW_SIZE"] == 65535


def test_early_hints_and_the_final_response_on_concurrent_streams():
    h = H2Harness(CATALOGUE)
    first = h.request("/drip?bytes=3&every=1s")
    second = h.request("/early-hints")
    events = h.events()
    assert statuses(events, second) == [103, 200] and ended(events, second)
    links = [v for k, v in next(e for e in events if isinstance(e, h2.events.InformationalResponseReceived)).headers if k == b"link"]
    assert links == [b"</style.css>; rel=preload; as=style", b"</script.js>; rel=preload; as=script"]
    assert body_of(events, first) == b"m" and not ended(events, first)  # the drip goes on beside it
    h.clock.advance(1)
    h.clock.advance(1)
    events = h.events()
    assert body_of(events, first) == b"oc" and ended(events, first)
    assert sorted(e["h2"]["stream"] for e in h.journal) == [first, second]


def test_http11_still_answers_through_the_selector_byte_by_byte():
    h = H2Harness(CATALOGUE)
    request = b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"
    for index in range(len(request)):
        h.protocol.dataReceived(request[index : index + 1])
    assert h.transport.value().startswith(b"HTTP/1.1 200 OK\r\n")
    assert h.journal[0]["protocol"] == "http/1.1"


def test_a_prefix_of_the_preface_that_turns_out_not_to_be_it_is_http11():
    h = H2Harness(CATALOGUE)
    h.protocol.dataReceived(b"PRI * HTTP/2.0\r\n")  # held: it may still be the preface
    assert h.transport.value() == b""
    h.protocol.dataReceived(b"Host: x\r\n\r\n")
    assert h.transport.value().startswith(b"HTTP/1.1 505 ")
    assert PREFACE.startswith(b"PRI * HTTP/2.0\r\n")


def test_a_body_larger_than_the_window_waits_for_window_updates():
    h = H2Harness(load_text("name: big\nmatch: {path: /big}\nscript:\n  - respond: {status: 200, body_size: 100000}\n"))
    stream = h.request("/big")
    events = h.events()
    assert len(body_of(events, stream)) == 65535 and not ended(events, stream)
    h.client.increment_flow_control_window(40000)
    h.send()  # the connection's window alone: the stream's is still shut
    assert body_of(h.events(), stream) == b""
    h.client.increment_flow_control_window(40000, stream)
    h.send()
    events = h.events()
    assert len(body_of(events, stream)) == 100000 - 65535 and ended(events, stream)
    (entry,) = h.journal
    assert entry["h2"]["window_updates"] == {"stream": 1, "connection": 1}


def test_close_is_goaway_then_fin_and_reset_is_an_rst():
    h = H2Harness(CATALOGUE)
    h.request("/continue/reject?status=417", "POST", headers=[("expect", "100-continue"), ("content-length", "5")], stream_id=1)
    frames = h.raw_frames()
    kinds = [type(f).__name__ for f in frames if not isinstance(f, SettingsFrame)]
    assert kinds[-1] == "GoAwayFrame" and "HeadersFrame" in kinds and kinds.index("HeadersFrame") < kinds.index("GoAwayFrame")
    assert frames[-1].last_stream_id == 1 and frames[-1].error_code == 0
    assert h.transport.write_closed  # FIN, reading on (linger)
    (entry,) = h.journal
    assert entry["final"]["status"] == 417 and entry["ended"]["server"]["signal"] == "FIN"

    h = H2Harness(CATALOGUE)
    h.request("/reset/after-headers")
    assert h.transport.disconnected


def test_unread_body_after_a_final_answer_to_expect_is_rst_stream_no_error():
    h = H2Harness(load_text("name: r\nmatch: {path: /r}\nscript:\n  - respond: 413\n"))
    stream = h.request("/r", "POST", headers=[("expect", "100-continue")], stream_id=1)
    assert stream == 1  # its body never comes
    h.client.send_headers(3, [(":method", "POST"), (":path", "/r"), (":scheme", "http"), (":authority", "x"), ("expect", "100-continue")])
    h.send()
    frames = [f for f in h.raw_frames() if f.stream_id == 3]
    assert isinstance(frames[-1], RstStreamFrame) and frames[-1].error_code == 0
    assert [f.decoded[0][1] for f in frames if isinstance(f, HeadersFrame)] == [b"413"]


def test_client_reset_and_data_after_the_final_response_are_journaled():
    h = H2Harness(load_text("name: r\nmatch: {path: /r}\nscript:\n  - respond: 200\n  - read_body: {}\n"))
    h.client.send_headers(1, [(":method", "POST"), (":path", "/r"), (":scheme", "http"), (":authority", "x")])
    h.send()
    h.events()
    h.client.send_data(1, b"late")
    h.client.reset_stream(1, 8)
    h.send()
    (entry,) = h.journal
    assert entry["facts"]["body_after_final_response"] is True and entry["facts"]["body_bytes_after_final_response"] == 4
    assert entry["ended"]["how"] == "client reset" and entry["h2"]["ended"] == "RST_STREAM(CANCEL) from the client"


def test_hang_without_reading_grants_no_window():
    h = H2Harness(load_text("name: h\nmatch: {path: /h}\nscript:\n  - hang: {for: 5s, read: false}\n  - read_body: {}\n  - respond: 200\n"))
    h.client.send_headers(1, [(":method", "POST"), (":path", "/h"), (":scheme", "http"), (":authority", "x")])
    for _ in range(3):
        h.client.send_data(1, b"x" * 16000)
    h.send()
    assert not any(isinstance(f, WindowUpdateFrame) and f.stream_id == 1 for f in h.raw_frames())
    h.clock.advance(5)
    assert any(isinstance(f, WindowUpdateFrame) and f.stream_id == 1 for f in h.raw_frames())


def test_a_connection_with_no_stream_is_journaled_with_its_settings():
    h = H2Harness(CATALOGUE)
    h.send()
    from twisted.internet.error import ConnectionDone
    from twisted.python.failure import Failure

    h.protocol.connectionLost(Failure(ConnectionDone()))
    (entry,) = h.journal
    assert entry["kind"] == "connection" and entry["protocol"] == "h2c" and entry["h2"]["client_settings"]["MAX_CONCURRENT_STREAMS"] == 100


def test_idle_connection_gets_goaway_after_the_idle_timeout():
    h = H2Harness(CATALOGUE, idle_timeout=5)
    h.send()
    h.raw_frames()
    h.clock.advance(5.2)
    frames = h.raw_frames()
    assert isinstance(frames[-1], GoAwayFrame) and frames[-1].last_stream_id == 0 and h.transport.write_closed


def test_data_frames_drip_at_their_times():
    h = H2Harness(CATALOGUE)
    stream = h.request("/drip?bytes=3&every=500ms")
    assert body_of(h.events(), stream) == b"m"
    h.clock.advance(0.499)
    assert body_of(h.events(), stream) == b""
    h.clock.advance(0.001)
    assert body_of(h.events(), stream) == b"o"
    data_frames = [f for f in h.frames if isinstance(f, DataFrame) and f.stream_id == stream]
    assert [bytes(f.data) for f in data_frames] == [b"m", b"o"]


# --- the h2 steps: frames past the library ----------------------------------------------


def behaviours_of(name: str):
    return [b for b in CATALOGUE if b.name == name]


def test_a_1xx_headers_frame_with_end_stream():
    h = H2Harness(behaviours_of("h2-interim-end-stream"))
    h.request("/h2/interim-end-stream", stream_id=1)
    (frame,) = [f for f in h.raw_frames() if f.stream_id == 1]
    assert isinstance(frame, HeadersFrame) and "END_STREAM" in frame.flags and frame.decoded[0] == (b":status", b"103")
    h.clock.advance(h.origin.limits.linger)  # no verdict from this client: journaled after linger
    (entry,) = h.journal
    assert [i["status"] for i in entry["interims"]] == [103] and entry["final"] is None


def test_connection_specific_fields_go_out_as_written():
    h = H2Harness(behaviours_of("h2-connection-header-response"))
    h.request("/h2/connection-header/response", stream_id=1)
    headers, data = [f for f in h.raw_frames() if f.stream_id == 1]
    assert (b"connection", b"keep-alive") in headers.decoded and (b"transfer-encoding", b"chunked") in headers.decoded
    assert bytes(data.data) == b"hello\n" and "END_STREAM" in data.flags


def test_a_client_that_resets_a_malformed_response_is_journaled_as_such():
    h = H2Harness(behaviours_of("h2-connection-header-response"))
    h.request("/h2/connection-header/response", stream_id=1)
    h.raw_frames()
    h.client.reset_stream(1, 1)
    h.send()
    (entry,) = h.journal
    assert entry["ended"]["how"] == "client reset" and entry["h2"]["ended"] == "RST_STREAM(PROTOCOL_ERROR) from the client"


def test_data_after_a_1xx_comes_before_the_final_headers():
    h = H2Harness(behaviours_of("h2-data-after-interim"))
    h.request("/h2/data-after-interim", stream_id=1)
    kinds = [(type(f).__name__, f.decoded[0][1] if isinstance(f, HeadersFrame) else None) for f in h.raw_frames() if f.stream_id == 1]
    assert kinds[:3] == [("HeadersFrame", b"103"), ("DataFrame", None), ("HeadersFrame", b"200")]


def test_a_refused_stream_and_its_retry():
    h = H2Harness(behaviours_of("h2-refused-stream"))
    h.request("/h2/refused-stream", stream_id=1)
    (frame,) = [f for f in h.raw_frames() if f.stream_id == 1]
    assert isinstance(frame, RstStreamFrame) and frame.error_code == 7
    h.request("/h2/refused-stream", stream_id=3)
    refused, retried = h.journal
    assert refused["h2"]["refused"] == "RST_STREAM(REFUSED_STREAM)" and refused["ended"]["server"]["signal"] == "RST_STREAM"
    assert retried["h2"]["retry_of"] == refused["id"] and retried["final"]["status"] == 200


def test_goaway_below_the_open_stream_then_close():
    h = H2Harness(behaviours_of("h2-goaway-below-stream"))
    h.request("/h2/goaway-below-stream", stream_id=5)
    goaways = [f for f in h.raw_frames() if isinstance(f, GoAwayFrame)]
    assert [g.last_stream_id for g in goaways] == [3]  # one GOAWAY: close sends none of its own after the script's
    assert h.transport.write_closed


def test_h2_steps_need_a_behaviour_that_matches_http2_only():
    from mockorigin.format.loader import LoadError

    with pytest.raises(LoadError, match='add `version: "2"`'):
        load_text("name: x\nmatch: {path: /x}\nscript:\n  - h2: {rst_stream: CANCEL}\n")
    with pytest.raises(LoadError, match="only step of its script"):
        load_text("name: x\nmatch: {path: /x}\nscript:\n  - tls: {stall: true}\n  - respond: 200\n")


def test_over_http11_an_h2_behaviour_is_not_matched():
    h = H2Harness(behaviours_of("h2-refused-stream"))
    h.protocol.dataReceived(b"GET /h2/refused-stream HTTP/1.1\r\nHost: x\r\n\r\n")
    assert h.transport.value().startswith(b"HTTP/1.1 404 ")
