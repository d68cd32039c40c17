"""Where the control API may listen without a token, which Host values name this machine,
and the token kept out of the process list."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import endpoints
from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.testing import MemoryReactorClock

from mockorigin import Control, ControlError
from mockorigin.serve.admin_http import host_name as _host_name
from mockorigin.cli import build_parser
from mockorigin.serve.options import UsageProblem, check_serve_options
from mockorigin.observe.journal import Journal
from mockorigin.serve.service import ListenError, OriginService, endpoint_arguments, is_loopback_address, is_loopback_endpoint
from mockorigin.interpreter.state import ServerState

from tests.helpers import ROOT
from tests.serve.test_admin_bodies import Admin

TOKEN = "file-token-value-4f1c"


def serve_options(*args: str):
    return build_parser().parse_args(["serve", *args])


# --- the endpoint string, read as Twisted reads it -----------------------------------------


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=":=\\ab1", max_size=14))
def test_endpoint_strings_split_as_twisted_splits_them(description):
    """Twisted's parser is private (``endpoints._parse``): this pins that ours agrees with it."""
    try:
        expected = endpoints._parse(description)
    except RuntimeError:  # Twisted's answer to a trailing backslash; the listen fails either way
        return
    assert endpoint_arguments(description) == expected


@pytest.mark.parametrize(("description", "loopback"), [
    ("tcp:0:interface=127.0.0.1", True),
    ("tcp:0:interface=127.0.0.2", True),
    ("tcp:0:interface=localhost", True),
    ("tcp:0:127.0.0.1", True),  # the interface given by position
    ("tcp6:0:interface=\\:\\:1", True),  # escaped, as Twisted needs it
    ("tcp6:0:interface=\\:\\:ffff\\:127.0.0.1", True),
    ("unix:/tmp/mockorigin-admin.sock", True),
    ("tcp:0:interface=127.0.0.1:interface=0.0.0.0", False),  # Twisted binds to the last one
    ("tcp:0:interface=0.0.0.0:interface=127.0.0.1", True),
    ("tcp:0", False),
    ("tcp6:0", False),
    ("tcp6:0:interface=\\:\\:", False),
    ("tcp:0:interface=::1", False),  # unescaped: Twisted reads interface="" (every interface)
    ("tcp:0:interface=192.0.2.1", False),
    ("tcp:0:interface=evil.example", False),
    ("systemd:domain=INET:index=0", False),  # not known before listening: not trusted
])
def test_loopback_endpoints(description, loopback):
    assert is_loopback_endpoint(description) is loopback


@pytest.mark.parametrize(("address", "loopback"), [
    (IPv4Address("TCP", "127.0.0.1", 1), True),
    (IPv4Address("TCP", "127.9.8.7", 1), True),
    (IPv6Address("TCP", "::1", 1), True),
    (IPv6Address("TCP", "::ffff:127.0.0.1", 1), True),
    (UNIXAddress("/tmp/admin.sock"), True),
    (IPv4Address("TCP", "0.0.0.0", 1), False),
    (IPv6Address("TCP", "::", 1), False),
    (IPv6Address("TCP", "::ffff:192.0.2.1", 1), False),
    (IPv4Address("TCP", "192.0.2.1", 1), False),
])
def test_loopback_bound_addresses(address, loopback):
    assert is_loopback_address(address) is loopback


def test_serve_refuses_a_repeated_interface_that_ends_on_every_interface():
    with pytest.raises(UsageProblem, match="reachable from other machines"):
        check_serve_options(serve_options("--admin", "tcp:0:interface=127.0.0.1:interface=0.0.0.0"))
    assert check_serve_options(serve_options("--admin", "tcp6:0:interface=\\:\\:1")) == "tcp6:0:interface=\\:\\:1"


class FakePort:
    def __init__(self, address):
        self.address = address

    def getHost(self):
        return self.address

    def stopListening(self):
        return None


class BindingReactor(MemoryReactorClock):
    """Binds nothing; its ports report the interface they were asked for, as the kernel would."""

    def listenTCP(self, port, factory, backlog=50, interface=""):
        super().listenTCP(port, factory, backlog, interface)
        family = IPv6Address if ":" in interface else IPv4Address
        return FakePort(family("TCP", interface or "0.0.0.0", port))


def _listen_admin(admin: str, token: str | None = None):
    reactor = BindingReactor()
    service = OriginService(reactor, ServerState(()), ["tcp:0:interface=127.0.0.1"], Journal(), admin=admin, admin_token=token)
    started = service.start_listening()
    failures: list = []
    started.addErrback(failures.append)
    return service, reactor, failures


def test_the_bound_address_decides_not_the_string():
    """Whatever the string seemed to say, a listener bound beyond loopback without a token is closed again."""
    service, reactor, failures = _listen_admin("tcp:0:interface=0.0.0.0")
    (failure,) = failures
    assert failure.check(ListenError) and "reachable from other machines" in str(failure.value)
    assert service.ports == [] and service.admin_url is None
    service, reactor, failures = _listen_admin("tcp:0:interface=0.0.0.0", token="t")
    assert failures == [] and service.admin_url == "http://0.0.0.0:0/"
    for loopback in ("tcp:0:interface=127.0.0.2", "tcp6:0:interface=\\:\\:ffff\\:127.0.0.1", "tcp6:0:interface=\\:\\:1"):
        service, reactor, failures = _listen_admin(loopback)
        assert failures == [] and service.admin_url is not None, loopback


# --- Host -------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "name"), [
    ("127.0.0.1:8080", "127.0.0.1"),
    ("localhost", "localhost"),
    ("LocalHost:1", "localhost"),
    ("[::1]:8080", "::1"),
    ("[::1]", "::1"),
    ("[::1]:", "::1"),
    ("::1", "::1"),
    ("[::1]x", None),
    ("[::1", None),
    ("127.0.0.1:80x", None),
    ("127.0.0.1:\u00b2", None),
])
def test_host_values(value, name):
    assert _host_name(value) == name


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


needs_ipv6 = pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")


@pytest.mark.e2e
@needs_ipv6
def test_an_escaped_ipv6_loopback_serves_without_a_token(server):
    s = server("--admin", "tcp6:0:interface=\\:\\:1")
    assert s.admin.startswith("http://[::1]:")
    port = s.admin.rstrip("/").rsplit(":", 1)[1]
    admin = Admin(s.admin)
    assert admin.call("GET", "/health", Host=f"[::1]:{port}")[0] == 200
    assert admin.call("GET", "/health", Host="[0:0:0:0:0:0:0:1]")[0] == 200
    assert admin.call("GET", "/health", Host=f"evil.example:{port}")[0] == 403
    admin.close()


@pytest.mark.e2e
@needs_ipv6
def test_with_a_token_host_ipv6_loopback_is_accepted(server):
    s = server("--admin", "tcp6:0:interface=\\:\\:1", "--admin-token", TOKEN)
    port = s.admin.rstrip("/").rsplit(":", 1)[1]
    admin = Admin(s.admin, TOKEN)
    assert admin.call("GET", "/health", Host=f"[::1]:{port}")[0] == 200
    assert admin.call("GET", "/health", Host=f"[::1]:{port}", Authorization="Bearer nope")[0] == 401
    admin.close()


@pytest.mark.e2e
def test_the_address_the_connection_reached_is_a_good_host(server):
    s = server("--admin", "tcp:0:interface=127.0.0.2")
    port = s.admin.rstrip("/").rsplit(":", 1)[1]
    admin = Admin(s.admin)
    assert admin.call("GET", "/health", Host=f"127.0.0.2:{port}")[0] == 200
    assert admin.call("GET", "/health", Host=f"127.0.0.3:{port}")[0] == 403  # another address is a foreign Host
    assert admin.call("GET", "/health", Host=f"127.0.0.1:{port}", Origin="null")[0] == 403
    admin.close()


def test_exactly_one_host_header():
    from twisted.internet.task import Clock
    from twisted.internet.testing import StringTransport

    from mockorigin.serve.admin import control_site

    service = OriginService(Clock(), ServerState(()), ["tcp:0"], Journal(), admin=None)
    channel = control_site(service).buildProtocol(None)
    transport = StringTransport()
    channel.makeConnection(transport)
    channel.dataReceived(b"GET /health HTTP/1.1\r\nHost: evil.example\r\nHost: 127.0.0.1\r\n\r\n")
    assert transport.value().startswith(b"HTTP/1.1 403 ")


# --- the token, out of the process list ---------------------------------------------------


@pytest.mark.e2e
def test_a_token_file_keeps_the_token_out_of_the_process_list(server, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(f"  {TOKEN}  \nsecond line ignored\n")
    s = server("--admin-token-file", str(token_file))
    with open(f"/proc/{s.process.pid}/cmdline", "rb") as handle:
        assert TOKEN.encode() not in handle.read()
    with pytest.raises(ControlError) as caught:
        s.control().health()
    assert caught.value.status == 401
    assert Control(s.admin, token_file=str(token_file)).health()["status"] == "ok"
    assert s.control(TOKEN).health()["status"] == "ok"
    assert TOKEN not in s.log()


def run_serve(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mockorigin", "serve", "--listen", "tcp:0:interface=127.0.0.1", *args],
                          capture_output=True, text=True, timeout=30, cwd=ROOT, env=env)


@pytest.mark.e2e
@pytest.mark.parametrize(("content", "says"), [(None, "cannot read it"), ("\n", "first line is empty"), ("   \nx\n", "first line is empty"),
                                               (b"\xff\xfe", "not UTF-8")])
def test_an_unusable_token_file_is_a_one_line_usage_error(tmp_path, content, says):
    token_file = tmp_path / "token"
    if isinstance(content, bytes):
        token_file.write_bytes(content)
    elif content is not None:
        token_file.write_text(content)
    result = run_serve("--admin-token-file", str(token_file))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and says in result.stderr and f"--admin-token-file {token_file}" in result.stderr


@pytest.mark.e2e
def test_a_token_and_a_token_file_together_are_refused(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    result = run_serve("--admin-token", "x", "--admin-token-file", str(token_file))
    assert result.returncode == 2 and "not both" in result.stderr


def test_a_token_file_beats_the_environment(tmp_path, monkeypatch):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    monkeypatch.setenv("MOCKORIGIN_ADMIN_TOKEN", "from-env")
    options = serve_options("--admin-token-file", str(token_file))
    check_serve_options(options)
    check_serve_options(options)  # twice, as twistd and serve do: the file is read once
    assert options.admin_token == TOKEN
    options = serve_options()
    check_serve_options(options)
    assert options.admin_token == "from-env"


def test_the_help_says_the_token_option_is_visible():
    text = " ".join(build_parser()._subparsers._group_actions[0].choices["serve"].format_help().split())
    assert "--admin-token-file" in text and "process list" in text


def test_control_reads_a_token_file(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(f"{TOKEN}\n")
    assert Control("http://127.0.0.1:1/", token_file=str(token_file)).token == TOKEN
    token_file.write_text("\n")
    with pytest.raises(ValueError, match="empty"):
        Control("http://127.0.0.1:1/", token_file=str(token_file))
    ready = tmp_path / "ready.json"
    ready.write_text(json.dumps({"admin": "http://127.0.0.1:9/"}))
    token_file.write_text(TOKEN)
    assert Control.from_ready_file(str(ready), token_file=str(token_file)).token == TOKEN
    assert os.path.exists(token_file)
