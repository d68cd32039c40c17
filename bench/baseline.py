"""Bare Twisted servers doing the same jobs with no mockorigin machinery: the baselines.

Usage: python -m bench.baseline PORT_FILE [--send-at-once]
Each connection: a request for /plain gets fixed bytes; /delayed-100 gets a 100
after a plain 200 ms callLater, then 200 once the body is in; /processing gets
five 102s from chained 100 ms callLaters; /hang gets nothing. With
--send-at-once, /plain's bytes go out through ``mockorigin.transport.tcpwrite.write_now``,
as mockorigin's quick answers do: the fair reference for what that trick is worth.
"""

from __future__ import annotations

import sys

from twisted.internet import reactor
from twisted.internet.protocol import Factory, Protocol

from mockorigin.transport.tcpwrite import write_now

FIXED = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class Bare(Protocol):
    def connectionMade(self):
        self.buffer = b""
        self.want_body = 0
        self.calls = []

    def dataReceived(self, data):
        self.buffer += data
        while True:
            if self.want_body:
                if len(self.buffer) < self.want_body:
                    return
                self.buffer = self.buffer[self.want_body :]
                self.want_body = 0
                self.transport.write(FIXED)
                continue
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
            path = head.split(b" ", 2)[1]
            if path == b"/plain":
                self.send(FIXED)
            elif path == b"/delayed-100":
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                self.calls.append(reactor.callLater(0.2, self.transport.write, b"HTTP/1.1 100 Continue\r\n\r\n"))
                self.want_body = length
            elif path == b"/processing":
                self._processing(5)

    def send(self, data):
        self.transport.write(data)

    def _processing(self, left):
        self.transport.write(b"HTTP/1.1 102 Processing\r\n\r\n")
        if left > 1:
            self.calls.append(reactor.callLater(0.1, self._processing, left - 1))
        else:
            self.transport.write(FIXED)

    def connectionLost(self, reason):
        for call in self.calls:
            if call.active():
                call.cancel()


class BareSendingAtOnce(Bare):
    def send(self, data):
        write_now(self.transport, data)


def main():
    protocol = BareSendingAtOnce if "--send-at-once" in sys.argv[2:] else Bare
    port = reactor.listenTCP(0, Factory.forProtocol(protocol), backlog=511, interface="127.0.0.1")
    with open(sys.argv[1], "w") as handle:
        handle.write(str(port.getHost().port))
    reactor.run()


if __name__ == "__main__":
    main()
