"""An echo on ``twisted.web.websocket``: the baseline for mockorigin's WebSocket echo.

Usage: python -m bench.ws_baseline PORT_FILE
"""

from __future__ import annotations

import sys

from twisted.internet import reactor
from twisted.web.resource import Resource
from twisted.web.server import Site
from twisted.web.websocket import WebSocketResource


class Echo:
    def negotiationStarted(self, transport):
        self.transport = transport

    def negotiationFinished(self):
        pass

    def textMessageReceived(self, message):
        self.transport.sendTextMessage(message)

    def bytesMessageReceived(self, data):
        self.transport.sendBytesMessage(data)

    def pongReceived(self, payload):
        pass

    def connectionLost(self, reason):
        pass


class EchoFactory:
    def buildProtocol(self, request):
        return Echo()


def main():
    root = Resource()
    root.putChild(b"ws", Resource())
    root.children[b"ws"].putChild(b"echo", WebSocketResource(EchoFactory()))
    site = Site(root)
    site.log = lambda request: None
    port = reactor.listenTCP(0, site, backlog=511, interface="127.0.0.1")
    with open(sys.argv[1], "w") as handle:
        handle.write(str(port.getHost().port))
    reactor.run()


if __name__ == "__main__":
    main()
