"""The control API's site is made on its first connection: a server whose control API nobody
calls does not import twisted.web before it is ready (bench (d))."""

from __future__ import annotations

import subprocess
import sys

from twisted.internet.protocol import Factory, Protocol

from mockorigin.serve.service import SiteOnFirstConnection


class CountingSite(Factory):
    protocol = Protocol

    def __init__(self):
        self.started = self.stopped = 0

    def startFactory(self):
        self.started += 1

    def stopFactory(self):
        self.stopped += 1


def test_the_site_is_made_once_on_the_first_connection_and_stopped_with_the_port():
    made = []

    def make():
        made.append(CountingSite())
        return made[-1]

    lazy = SiteOnFirstConnection(make)
    lazy.doStart()
    assert made == []
    first, second = lazy.buildProtocol(None), lazy.buildProtocol(None)
    assert len(made) == 1 and made[0].started == 1
    assert isinstance(first, Protocol) and first.factory is made[0] and second.factory is made[0]
    lazy.doStop()
    assert made[0].stopped == 1


def test_a_port_nobody_connected_to_stops_without_a_site():
    lazy = SiteOnFirstConnection(lambda: (_ for _ in ()).throw(AssertionError("made")))
    lazy.doStart()
    lazy.doStop()
    assert lazy.site is None


LISTEN_THEN_CALL = """
import sys, urllib.request
from twisted.internet import reactor
from mockorigin.interpreter.state import ServerState
from mockorigin.serve.service import OriginService

service = OriginService(reactor, ServerState(()), ["tcp:0:interface=127.0.0.1"])

def listening(_):
    print("listening", any(m.startswith("twisted.web") for m in sys.modules))
    reactor.callInThread(call)

def call():
    with urllib.request.urlopen(service.admin_url + "health", timeout=10) as response:
        status = response.status
    reactor.callFromThread(done, status)

def done(status):
    print("called", status, any(m.startswith("twisted.web") for m in sys.modules))
    service.stop_listening().addBoth(lambda _: reactor.stop())

reactor.callWhenRunning(lambda: service.start_listening().addCallback(listening))
reactor.callLater(20, reactor.stop)
reactor.run()
"""


def test_a_listening_server_imports_twisted_web_when_its_control_api_is_first_called():
    run = subprocess.run([sys.executable, "-c", LISTEN_THEN_CALL], capture_output=True, text=True, timeout=60)
    assert run.stdout.split("\n")[:2] == ["listening False", "called 200 True"], run.stderr[-2000:]
