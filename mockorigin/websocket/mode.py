"""A connection after its 101: the client's frames in, only the answers a script allows out.

Once a script has upgraded a connection, the protocol hands every byte it reads
to ``WebSocketMode.feed``. Every frame is journaled (by the ``websocket.Session``);
messages and pings are answered only during ``echo``; otherwise they wait, within
bounds, for a ``receive`` step. What only the protocol can do, going on with the
script or closing the connection, comes back through the callbacks it passes in.
No Twisted import here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from mockorigin.interpreter.websocket_steps import close_payload
from mockorigin.websocket import session as websocket
from mockorigin.websocket.frames import frame

_TCP_ENDINGS = {"client closed": "client dropped TCP", "client reset": "client reset TCP"}


class WebSocketMode:
    __slots__ = ("session", "_write", "_resume", "_end", "_closing", "echoing", "pending", "waiting_for")

    def __init__(
        self,
        now: Callable[[], float],
        write: Callable[[bytes], None],
        resume: Callable[[], None],
        end: Callable[[str, str], None],
        closing: Callable[[], bool],
    ):
        """``resume()`` goes on with the script; ``end(how, why)`` stops it and closes the
        connection; ``closing()`` says the server is already closing (read, never answer)."""
        self.session = websocket.Session(now)
        self._write, self._resume, self._end, self._closing = write, resume, end, closing
        self.echoing = False
        self.pending: deque = deque()  # messages and pings no step has taken yet
        self.waiting_for: int | None = None  # messages a receive step waits for

    def feed(self, data: bytes) -> None:
        session = self.session
        for event in session.feed(data):
            if self._closing():
                continue  # the client's close reply is still journaled by the session
            if isinstance(event, (websocket.Message, websocket.PingReceived)):
                if self.echoing:
                    self._answer(event)
                    continue
                self._hold(event)
                if self.waiting_for is not None and self._take(self.waiting_for):
                    self.waiting_for = None
                    self._resume()
            elif isinstance(event, websocket.CloseReceived):
                if session.log.close_sent is not None or self.echoing:
                    self._complete_close(event)
                else:  # an echo step later answers it, in order (it may have come with the handshake)
                    self.pending.append(event)
            elif isinstance(event, websocket.Failed):
                self._send(8, close_payload(event.code, event.reason[:100]))
                session.log.ended = f"protocol error {event.code}: {event.reason}"
                self._end("server closed", f"the client broke the WebSocket protocol ({event.code})")

    def receive(self, count: int) -> bool:
        """A receive step: True if its ``count`` messages are here (and taken); otherwise
        it waits, and ``resume()`` is called when they have come."""
        if self._take(count):
            return True
        self.waiting_for = count
        return False

    def echo(self) -> None:
        """From now on echo messages and answer pings; what arrived before is answered first,
        a close the client sent meanwhile included."""
        self.echoing = True
        pending, self.pending = self.pending, deque()
        for event in pending:
            if isinstance(event, websocket.CloseReceived):
                self._complete_close(event)
                return
            self._answer(event)

    def _complete_close(self, event) -> None:
        """The client's Close, answered with its own code unless the server already sent one."""
        log = self.session.log
        if log.close_sent is None:  # echo the client's code (none for none)
            self._send(8, close_payload(event.code, ""))
        log.ended = "close handshake"
        self._end("completed", "the WebSocket closing handshake is done")

    def scripted_frame(self, command) -> bytes:
        """The bytes of a frame a script describes (an ``interpreter.commands.Frame``),
        journaled as what it really is: its length field may lie, its mask be set."""
        rsv = (4 if command.rsv[0] else 0) | (2 if command.rsv[1] else 0) | (1 if command.rsv[2] else 0)
        declared = len(command.payload) if command.length is None else command.length
        self.session.note_sent(command.opcode, command.fin, declared, command.mask is not None, rsv, command.payload)
        return frame(command.opcode, command.payload, command.fin, command.rsv, command.mask, command.length)

    def summary(self, connection_ended: str) -> dict:
        """The journal's ``websocket`` part, once the connection is gone (``connection_ended``: how)."""
        log = self.session.log
        if log.ended is None:
            log.ended = _TCP_ENDINGS.get(connection_ended, connection_ended)
        return log.summary()

    def _hold(self, event) -> None:
        """Keep a message or ping for a later step, within bounds: the oldest go first past
        256 events or 4 MiB of data (the journal keeps every frame anyway)."""
        pending = self.pending
        pending.append(event)
        size = sum(len(e.data) for e in pending if isinstance(e, websocket.Message))
        while len(pending) > websocket.MAX_PENDING or size > websocket.MAX_PENDING_BYTES:
            dropped = pending.popleft()
            if isinstance(dropped, websocket.Message):
                size -= len(dropped.data)

    def _take(self, count: int) -> bool:
        messages = [e for e in self.pending if isinstance(e, websocket.Message)]
        if len(messages) < count:
            return False
        taken = set(map(id, messages[:count]))
        self.pending = deque(e for e in self.pending if id(e) not in taken)
        return True

    def _answer(self, event) -> None:
        """The echo's answer: the message back, or a pong with the ping's payload."""
        if isinstance(event, websocket.Message):
            self._send(1 if event.kind == "text" else 2, event.data)
        else:
            self._send(10, event.payload)

    def _send(self, opcode: int, payload: bytes) -> None:
        self._write(frame(opcode, payload))
        self.session.note_sent(opcode, True, len(payload), False, 0, payload)
