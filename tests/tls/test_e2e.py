"""TLS end to end: the CA made at start, HTTP/1.1 over TLS with real clients, and the TLS
misbehaviours (a stalled handshake, an ALPN mismatch, no ALPN, a truncation)."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import require_program, start_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    server = start_server(folder, "--tls", timeout=30)
    server.ca = folder / "ready.ca.pem"  # type: ignore[attr-defined]
    server.ready = json.loads((folder / "ready.json").read_text())  # type: ignore[attr-defined]
    yield server
    server.stop()


def journal(server) -> list[dict]:
    with urllib.request.urlopen(server.admin + "journal", timeout=5) as response:
        return json.load(response)["entries"]


def reset(server) -> None:
    urllib.request.urlopen(urllib.request.Request(server.admin + "reset", method="POST"), timeout=5).close()


def context(server, alpn=("http/1.1",)) -> ssl.SSLContext:
    made = ssl.create_default_context(cafile=str(server.ca))
    made.set_alpn_protocols(list(alpn))
    return made


def test_the_ready_file_names_https_urls_and_the_ca(tls_server):
    assert tls_server.ready["urls"][0].startswith("https://127.0.0.1:")
    assert tls_server.ready["ca"] == str(tls_server.ca) and tls_server.ca.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert "TLS certificates are signed by a CA made at start" in tls_server.log()


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_python_verifies_the_certificate_by_name_and_address(tls_server, host):
    reset(tls_server)
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=5) as raw:
        with context(tls_server).wrap_socket(raw, server_hostname=host) as tls:
            assert tls.selected_alpn_protocol() == "http/1.1"
            tls.sendall(f"GET /echo HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            data = b"".join(iter(lambda: tls.recv(65536), b""))
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    (entry,) = journal(tls_server)
    assert entry["protocol"] == "http/1.1" and entry["tls"]["alpn"] == "http/1.1" and entry["tls"]["version"] in ("TLSv1.2", "TLSv1.3")
    assert entry["tls"]["sni"] == (host if host == "localhost" else None)


def test_the_ca_vouches_for_loopback_names_only(tls_server):
    from cryptography import x509

    ca = x509.load_pem_x509_certificate(tls_server.ca.read_bytes())
    constraints = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical and {str(n.value) for n in constraints.value.permitted_subtrees} == {"localhost", ".localhost", "127.0.0.0/8", "::1/128"}


def test_a_client_that_does_not_trust_the_ca_is_journaled_with_the_reason(tls_server):
    reset(tls_server)
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=5) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            ssl.create_default_context().wrap_socket(raw, server_hostname="localhost")
    deadline = time.monotonic() + 5
    while not journal(tls_server) and time.monotonic() < deadline:
        time.sleep(0.02)
    (entry,) = journal(tls_server)
    assert entry["kind"] == "connection" and entry["ended"]["stage"] == "tls handshake" and entry["tls"]["error"]


def test_curl_sees_each_102_and_the_100_over_tls_with_http11(tls_server):
    require_program("curl")
    reset(tls_server)
    result = subprocess.run(["curl", "-sS", "-v", "--http1.1", "--cacert", str(tls_server.ca), f"https://localhost:{tls_server.port}/processing?count=2&every=100ms"],
                            capture_output=True, text=True, timeout=30)
    assert result.stderr.count("< HTTP/1.1 102 Processing") == 2 and "< HTTP/1.1 200 OK" in result.stderr
    result = subprocess.run(["curl", "-sS", "--http1.1", "--cacert", str(tls_server.ca), "-H", "Expect: 100-continue", "--expect100-timeout", "5",
                             "--data-binary", "hello", f"https://localhost:{tls_server.port}/continue/delayed?delay=200ms"], capture_output=True, text=True, timeout=30)
    assert result.stdout == '{"received": 5}'
    entry = journal(tls_server)[-1]
    assert entry["facts"]["sent_body_before_continue"] is False and entry["facts"]["waited_for_continue"] >= 0.2


def test_a_websocket_echo_over_tls(tls_server):
    from websockets.sync.client import connect

    with connect(f"wss://localhost:{tls_server.port}/ws/echo", ssl=context(tls_server), open_timeout=5) as ws:
        ws.send("hello")
        assert ws.recv(timeout=5) == "hello"
    deadline = time.monotonic() + 5
    while not any(e["websocket"] for e in journal(tls_server)) and time.monotonic() < deadline:
        time.sleep(0.02)
    entry = next(e for e in journal(tls_server) if e["websocket"])
    assert entry["tls"]["alpn"] in ("http/1.1", None) and entry["websocket"]["facts"]["masked_all_frames"] is True


def test_a_truncated_body_ends_without_close_notify(tls_server):
    """Python raises on an EOF without close_notify when told not to hide it; a close with
    close_notify (after a request that said Connection: close) reads as a clean end."""
    def read_all(path: str, close: bool = False) -> tuple[bytes, Exception | None]:
        with socket.create_connection(("127.0.0.1", tls_server.port), timeout=5) as raw:
            with context(tls_server).wrap_socket(raw, server_hostname="localhost", suppress_ragged_eofs=False) as tls:
                tls.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n{'Connection: close' if close else 'X: y'}\r\n\r\n".encode())
                data = b""
                try:
                    while chunk := tls.recv(65536):
                        data += chunk
                except ssl.SSLEOFError as error:
                    return data, error
                return data, None

    data, error = read_all("/tls/truncated-body")
    assert data.endswith(b"the first half of the body, and then") and isinstance(error, ssl.SSLEOFError)
    data, error = read_all("/echo", close=True)
    assert data.startswith(b"HTTP/1.1 200 ") and error is None


def test_curl_takes_a_truncated_body_for_a_whole_one(tls_server):
    """What curl 7.88 does with a close-delimited body cut without close_notify (exit 0): a
    finding this behaviour exists to show, pinned so a change in curl is noticed."""
    require_program("curl")
    result = subprocess.run(["curl", "-sS", "--http1.1", "--cacert", str(tls_server.ca), f"https://localhost:{tls_server.port}/tls/truncated-body"],
                            capture_output=True, text=True, timeout=30)
    assert result.stdout == "the first half of the body, and then"
    assert result.returncode in (0, 56)  # 56 would be curl reading it as the truncation it is


def test_a_stalled_handshake_holds_the_client_hello_and_is_journaled(tls_server):
    reset(tls_server)
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=0.5) as raw:
        started = time.monotonic()
        with pytest.raises((socket.timeout, TimeoutError)):
            context(tls_server).wrap_socket(raw, server_hostname="tls-handshake-stall.localhost")
        assert time.monotonic() - started >= 0.45
    deadline = time.monotonic() + 5
    while not journal(tls_server) and time.monotonic() < deadline:
        time.sleep(0.02)
    (entry,) = journal(tls_server)
    assert entry["behaviour"] == "tls-handshake-stall" and entry["ended"]["stage"] == "tls handshake" and entry["ended"]["by"] == "client"
    assert entry["tls"]["behaviour"] == "tls-handshake-stall" and entry["tls"]["version"] is None


def test_the_same_name_without_the_behaviour_handshakes_normally(tls_server):
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=5) as raw:
        with context(tls_server).wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_an_alpn_the_client_never_offered_fails_its_handshake(tls_server):
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=5) as raw:
        with pytest.raises(ssl.SSLError):
            context(tls_server, ("h2", "http/1.1")).wrap_socket(raw, server_hostname="tls-alpn-mismatch.localhost")
    require_program("curl")
    result = subprocess.run(["curl", "-sS", "--cacert", str(tls_server.ca), f"https://tls-alpn-mismatch.localhost:{tls_server.port}/echo",
                             "--resolve", f"tls-alpn-mismatch.localhost:{tls_server.port}:127.0.0.1"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 35


def test_no_alpn_makes_curl_fall_back_to_http11(tls_server):
    require_program("curl")
    reset(tls_server)
    result = subprocess.run(["curl", "-sS", "-v", "--http2", "--cacert", str(tls_server.ca), f"https://tls-no-alpn.localhost:{tls_server.port}/echo",
                             "--resolve", f"tls-no-alpn.localhost:{tls_server.port}:127.0.0.1"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and "> GET /echo HTTP/1.1" in result.stderr
    (entry,) = [e for e in journal(tls_server) if e["request"]]
    assert entry["protocol"] == "http/1.1" and entry["tls"]["alpn"] is None and entry["tls"]["alpn_offered"] == ["h2", "http/1.1"]


def test_user_certificate_and_key_files(tmp_path, server):
    from mockorigin.tls import certs

    issued = certs.issue()
    (tmp_path / "cert.pem").write_bytes(issued.cert_pem)
    (tmp_path / "key.pem").write_bytes(issued.key_pem)
    (tmp_path / "ca.pem").write_bytes(issued.ca_pem)
    started = server("--listen", f"ssl:0:interface=127.0.0.1:privateKey={tmp_path / 'key.pem'}:certKey={tmp_path / 'cert.pem'}")
    ready = json.loads((started.log_path.parent / "ready.json").read_text())
    assert ready["urls"][0].startswith("http://") and ready["urls"][1].startswith("https://") and ready["ca"] is None
    port = int(ready["urls"][1].rstrip("/").rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ssl.create_default_context(cafile=str(tmp_path / "ca.pem")).wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.version() is not None


def test_bad_certificate_files_are_a_clear_error(tmp_path):
    import sys

    (tmp_path / "cert.pem").write_text("not a certificate")
    result = subprocess.run([sys.executable, "-m", "mockorigin", "serve", "--listen", "tcp:0:interface=127.0.0.1", "--tls", "--tls-cert", str(tmp_path / "cert.pem")],
                            capture_output=True, text=True, timeout=60, cwd=Path(__file__).parent.parent)
    assert result.returncode == 1 and "no private key" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("path", ["/tls/handshake-stall", "/tls/alpn-mismatch", "/tls/no-alpn"])
def test_a_request_to_a_handshake_behaviours_path_gets_nothing(tls_server, path):
    """A handshake behaviour acts before any request; asked for by path it has nothing to send."""
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=5) as raw:
        with context(tls_server).wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
            assert tls.recv(65536) == b""  # closed: no final response was sent
