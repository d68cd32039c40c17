"""HTTP/2 end to end: curl (over TLS with ALPN, and cleartext with prior knowledge), httpx,
Node's http2 module and Go's net/http against a real server; the HTTP/2 misbehaviours and
what the journal says of the clients."""

from __future__ import annotations

import json
import ssl
import subprocess
import time
import urllib.request

import pytest

from tests.helpers import require_program, start_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def h2_server(tmp_path_factory):
    """A TLS listener and a cleartext one (for prior knowledge), one server."""
    folder = tmp_path_factory.mktemp("h2")
    server = start_server(folder, "--listen", "ssl:0:interface=127.0.0.1", timeout=30)
    ready = json.loads((folder / "ready.json").read_text())
    server.ca = ready["ca"]  # type: ignore[attr-defined]
    server.https = ready["urls"][1].replace("127.0.0.1", "localhost").rstrip("/")  # type: ignore[attr-defined]
    yield server
    server.stop()


def journal(server) -> list[dict]:
    with urllib.request.urlopen(server.admin + "journal", timeout=5) as response:
        return json.load(response)["entries"]


def reset(server) -> None:
    urllib.request.urlopen(urllib.request.Request(server.admin + "reset", method="POST"), timeout=5).close()


def wait_for(server, count: int, timeout: float = 5.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while len(entries := journal(server)) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return entries


def curl(*args: str) -> subprocess.CompletedProcess:
    require_program("curl")
    return subprocess.run(["curl", "-sS", "-v", *args], capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("how", ["--http2", "--http2-prior-knowledge"])
def test_curl_sees_each_interim_as_its_own_http2_response(h2_server, how):
    reset(h2_server)
    url = h2_server.https if how == "--http2" else h2_server.url
    result = curl(how, "--cacert", h2_server.ca, f"{url}/processing?count=3&every=100ms")
    assert result.stderr.count("< HTTP/2 102") == 3 and "< HTTP/2 200" in result.stderr and result.stdout == "done after 3 x 102\n"
    (entry,) = wait_for(h2_server, 1)
    assert entry["protocol"] == ("h2" if how == "--http2" else "h2c") and entry["request"]["version"] == "2"
    assert [i["status"] for i in entry["interims"]] == [102, 102, 102]
    gaps = [b["at"] - a["at"] for a, b in zip(entry["interims"], entry["interims"][1:], strict=False)]
    assert all(0.09 <= gap <= 0.3 for gap in gaps), gaps
    assert entry["h2"]["client_settings"] and entry["ended"]["how"] == "completed"


def test_curl_early_hints_over_h2_shows_the_103_with_its_links(h2_server):
    result = curl("--http2", "--cacert", h2_server.ca, f"{h2_server.https}/early-hints")
    head = result.stderr.split("< HTTP/2 200")[0]
    assert "< HTTP/2 103" in head and "< link: </style.css>; rel=preload; as=style" in head


def test_curl_expect_100_continue_over_h2(h2_server):
    reset(h2_server)
    result = curl("--http2", "--cacert", h2_server.ca, "-H", "Expect: 100-continue", "--expect100-timeout", "5", "--data-binary", "hello",
                  f"{h2_server.https}/continue/delayed?delay=200ms")
    assert "< HTTP/2 100" in result.stderr and result.stdout == '{"received": 5}'
    (entry,) = wait_for(h2_server, 1)
    assert entry["facts"]["sent_body_before_continue"] is False and entry["facts"]["waited_for_continue"] >= 0.19


def test_httpx_over_http2(h2_server):
    import httpx

    reset(h2_server)
    with httpx.Client(http2=True, verify=ssl.create_default_context(cafile=h2_server.ca), timeout=10) as client:
        response = client.get(f"{h2_server.https}/early-hints")
        assert response.http_version == "HTTP/2" and response.status_code == 200
        drip = client.get(f"{h2_server.https}/drip?bytes=4&every=50ms")
        assert drip.http_version == "HTTP/2" and len(drip.content) == 4
    entries = wait_for(h2_server, 2)
    assert [e["h2"]["stream"] for e in entries] == [1, 3] and len({e["connection"] for e in entries}) == 1


def test_node_http2_sees_each_1xx_in_its_headers_event(h2_server):
    node = require_program("node")
    script = """
const http2 = require('node:http2');
const fs = require('node:fs');
const [url, ca] = process.argv.slice(1);
const client = http2.connect(url, {ca: fs.readFileSync(ca)});
const seen = [];
const req = client.request({':path': '/processing?count=2&every=50ms'});
req.on('headers', (headers) => seen.push(headers[':status']));
req.on('response', (headers) => seen.push(headers[':status']));
req.resume();
req.on('end', () => { console.log(JSON.stringify(seen)); client.close(); });
"""
    result = subprocess.run([node, "-e", script, h2_server.https, h2_server.ca], capture_output=True, text=True, timeout=30)
    assert json.loads(result.stdout) == [102, 102, 200], result.stderr


def test_go_net_http_sees_the_103_over_http2(h2_server, tmp_path):
    go = require_program("go")
    (tmp_path / "main.go").write_text("""
package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"os"
)

func main() {
	pool := x509.NewCertPool()
	pem, _ := os.ReadFile(os.Args[2])
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, header textproto.MIMEHeader) error {
		fmt.Printf("%d %s\\n", code, header.Get("Link"))
		return nil
	}}
	request, _ := http.NewRequest("GET", os.Args[1]+"/early-hints", nil)
	response, err := client.Do(request.WithContext(httptrace.WithClientTrace(request.Context(), trace)))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	io.ReadAll(response.Body)
	fmt.Println(response.StatusCode, response.Proto)
}
""")
    result = subprocess.run([go, "run", str(tmp_path / "main.go"), h2_server.https, h2_server.ca], capture_output=True, text=True, timeout=180,
                            env={"HOME": str(tmp_path), "GOCACHE": str(tmp_path / "cache"), "GOPATH": str(tmp_path / "go"), "PATH": "/usr/bin:/bin", "GOFLAGS": "-mod=mod", "GO111MODULE": "off"})
    assert result.stdout.splitlines() == ["103 </style.css>; rel=preload; as=style", "200 HTTP/2.0"], result.stderr


@pytest.mark.parametrize("path", ["/h2/interim-end-stream", "/h2/data-after-interim", "/h2/connection-header/response", "/h2/connection-header/interim"])
def test_curl_resets_malformed_http2_responses(h2_server, path):
    reset(h2_server)
    result = curl("--http2", "--cacert", h2_server.ca, f"{h2_server.https}{path}")
    assert result.returncode == 92 and "PROTOCOL_ERROR" in result.stderr
    (entry,) = wait_for(h2_server, 1)
    assert entry["behaviour"] == path.strip("/").replace("/", "-")
    assert entry["ended"]["how"] == "client reset"  # the stream (RST_STREAM), or with it the whole connection (an RST of TCP)
    assert entry["h2"]["ended"] in ("RST_STREAM(PROTOCOL_ERROR) from the client", "the connection ended (client reset)")


def test_curl_retries_a_refused_stream_and_the_journal_says_so(h2_server):
    reset(h2_server)
    result = curl("--http2", "--cacert", h2_server.ca, f"{h2_server.https}/h2/refused-stream")
    assert result.returncode == 0 and result.stdout == "retried\n"
    first, second = wait_for(h2_server, 2)
    assert first["h2"]["refused"] == "RST_STREAM(REFUSED_STREAM)" and first["ended"]["how"] == "server reset"
    assert second["h2"]["retry_of"] == first["id"] and second["final"]["status"] == 200


def test_a_goaway_below_the_open_stream_and_what_curl_makes_of_it(h2_server):
    """curl 7.88 reports an error (16) instead of retrying the unprocessed stream: the
    journal shows the GOAWAY's refusal and no retry."""
    reset(h2_server)
    result = curl("--http2", "--cacert", h2_server.ca, f"{h2_server.https}/h2/goaway-below-stream")
    assert "GOAWAY, error=0, last_stream=0" in result.stderr
    entries = wait_for(h2_server, 1)
    assert entries[0]["h2"]["refused"] == "GOAWAY (last stream 0)" and entries[0]["final"] is None
    retried = [e for e in journal(h2_server) if e["h2"] and e["h2"]["retry_of"] == entries[0]["id"]]
    assert (result.returncode == 0) == bool(retried)


def test_httpx_over_h2_with_a_connection_level_reset(h2_server):
    import httpx

    with httpx.Client(http2=True, verify=ssl.create_default_context(cafile=h2_server.ca), timeout=10) as client:
        with pytest.raises(httpx.HTTPError):
            client.get(f"{h2_server.https}/reset/after-headers")


def test_recently_closed_connections_name_the_h2c_wire_and_not_http1(tmp_path):
    """GET /connections' closed list, after one h2c and one HTTP/1.1 connection from curl."""
    curl = require_program("curl")
    server = start_server(tmp_path)
    try:
        for flags in (["--http2-prior-knowledge"], ["--http1.1"]):
            done = subprocess.run([curl, "-s", "-o", "/dev/null", "-w", "%{http_version}", *flags, server.url.rstrip("/") + "/echo"], capture_output=True, text=True, timeout=20)
            assert done.stdout in ("2", "1.1")
        deadline = time.monotonic() + 5
        while len(closed := server.control().closed_connections()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        h2, h1 = closed[-2], closed[-1]
        assert h2["protocol"] == "h2c" and h2["requests"] == 1 and h2["ended"]["signal"] in ("FIN", "RST")
        assert "protocol" not in h1 and h1["requests"] == 1 and list(h1) == ["connection", "client", "accepted_at", "open_for", "requests", "ended"]
    finally:
        server.stop()
