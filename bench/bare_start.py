"""A bare Twisted server that listens and writes a ready file: the baseline for (d), launch to ready.

Usage: python -m bench.bare_start READY_FILE
It does what ``mockorigin serve --ready-file`` must do before its ready file says
so (import Twisted, install the reactor, listen on a loopback port, write the
file) and nothing else. It imports nothing of mockorigin.
"""

from __future__ import annotations

import json
import os
import sys

from twisted.internet import reactor
from twisted.internet.protocol import Factory, Protocol


def main() -> None:
    port = reactor.listenTCP(0, Factory.forProtocol(Protocol), backlog=511, interface="127.0.0.1")

    def ready() -> None:
        path = sys.argv[1]
        with open(path + ".tmp", "w") as handle:
            json.dump({"pid": os.getpid(), "urls": [f"http://127.0.0.1:{port.getHost().port}/"]}, handle)
        os.replace(path + ".tmp", path)

    reactor.callWhenRunning(ready)
    reactor.run()


if __name__ == "__main__":
    main()
