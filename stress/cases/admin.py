"""The control API under attack: S1 (binding), S2 (tokens), S3 (browsers) and F7 (abuse).

- S1: the admin listener binds to loopback only; a non-loopback ``--admin`` without a token
  refuses to start, however the endpoint string is written (#10 defect 6);
- S2: with a token, every route with no, wrong or misplaced credentials is 401, and the
  token never reaches the log or the journal;
- S3: a foreign ``Host`` (DNS rebinding) or any ``Origin`` is 403, a form-encodable
  content type is 415, and no CORS header is ever sent;
- F7: malformed bodies get a 4xx naming the problem, never a 500 (#10 defect 4); a huge
  announced body is refused before it is read (#10 defect 15); concurrent writers never
  show a reader half a set.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
import time

from stress.runner import Context
from stress.server import HOST, Server, StartError

SMALL_SET = b"name: s2-added\nmatch: {path: /s2}\nscript: [{respond: 200}]\n"


def _listening(pid: int) -> list[str]:
    """Addresses the process listens on (TCP), from /proc/net/tcp{,6}."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] != "0A" or fields[9] not in inodes:
                continue
            address, port = fields[1].split(":")
            raw = bytes.fromhex(address)
            if width == 8:
                host = socket.inet_ntop(socket.AF_INET, raw[::-1])
            else:
                host = socket.inet_ntop(socket.AF_INET6, b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4)))
            found.append(f"{host}:{int(port, 16)}")
    return found


def _loopback(address: str) -> bool:
    host = address.rsplit(":", 1)[0]
    return host.startswith("127.") or host in ("::1", "::ffff:127.0.0.1") or host.startswith("::ffff:127.")


def _try_start(server: Server) -> str:
    """'refused (exit N)' or 'started'."""
    try:
        server.start(timeout=10)
    except StartError:
        return f"refused (exit {server.process.returncode if server.process else '?'})"
    return "started"


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


def run_s1(ctx: Context) -> None:
    result = ctx.result
    default = ctx.own_server("s1-default").start()
    addresses = _listening(default.pid)
    result.figures["default_listeners"] = addresses
    result.check(bool(addresses) and all(map(_loopback, addresses)), f"default listeners not all loopback: {addresses}")
    default.stop()
    attempts = {
        "tcp:0:interface=0.0.0.0": ("refused", None),
        "tcp:0:interface=127.0.0.1:interface=0.0.0.0": ("refused", "#10/6"),  # Twisted binds the last interface=
    }
    if not ctx.quick:
        attempts["tcp:0"] = ("refused", None)  # no interface: every address
    if _ipv6_loopback():
        attempts["tcp6:0:interface=\\:\\:1"] = ("started", "#10/6")
    outcomes = {}
    for endpoint, (expected, defect) in attempts.items():
        server = ctx.own_server(f"s1-{len(outcomes)}", "--admin", endpoint)
        outcome = _try_start(server)
        if outcome == "started":
            outcome += f" on {[a for a in _listening(server.pid) if a.endswith(f':{server.admin_port}')]}"
            server.stop()
        outcomes[endpoint] = outcome
        result.check(outcome.startswith(expected), f"--admin {endpoint} without a token: {outcome}, expected {expected}", defect)
    result.figures["admin_endpoints_without_token"] = outcomes
    token = "s1-" + os.urandom(8).hex()
    guarded = ctx.own_server("s1-token", env={**os.environ, "MOCKORIGIN_ADMIN_TOKEN": token}, token=token).start()
    for host in (f"127.0.0.1:{guarded.admin_port}", f"localhost:{guarded.admin_port}", f"[::1]:{guarded.admin_port}"):
        status, _headers, _body = guarded.admin("GET", "/health", headers={"Host": host})
        result.figures[f"token + Host {host.rsplit(':', 1)[0]}"] = status
        result.check(status == 200, f"with a token, Host: {host} got {status}", "#10/6" if host.startswith("[") else None)
    guarded.stop()
    result.inputs = len(attempts) + 4


ROUTES = [
    ("GET", "/health"), ("GET", "/behaviours"), ("PUT", "/behaviours"), ("POST", "/behaviours"), ("DELETE", "/behaviours/echo"),
    ("POST", "/behaviours/restore"), ("GET", "/journal"), ("DELETE", "/journal"), ("POST", "/reset"), ("GET", "/connections"),
    ("GET", "/debug/timers"), ("GET", "//health"), ("GET", "/health/../health"), ("GET", "/%2e/health"), ("HEAD", "/health"), ("OPTIONS", "/health"),
]  # fmt: skip


def run_s2(ctx: Context) -> None:
    result = ctx.result
    token = "s2-" + os.urandom(12).hex()
    server = ctx.own_server("s2", env={**os.environ, "MOCKORIGIN_ADMIN_TOKEN": token}).start()
    server.token = token
    _s, _h, before = server.admin("GET", "/behaviours")
    server.token = None
    wrong = {
        "none": {},
        "wrong token": {"Authorization": "Bearer wrong"},
        "token in the query": "query",
        "Basic": {"Authorization": "Basic " + base64.b64encode(f"user:{token}".encode()).decode()},
        "wrong case": {"Authorization": f"Bearer {token.upper()}"},
        "no scheme": {"Authorization": token},
        "scheme only": {"Authorization": "Bearer"},
        "two tokens": {"Authorization": f"Bearer wrong, Bearer {token}"},
    }
    allowed = []
    for method, path in ROUTES:
        for name, headers in wrong.items():
            target = f"{path}?token={token}" if headers == "query" else path
            body = SMALL_SET if method in ("PUT", "POST") and path == "/behaviours" else None
            sent = {"Content-Type": "application/yaml"} if body else {}
            status, _headers, _body = server.admin(method, target, body, {**sent, **({} if headers == "query" else headers)})
            if status != 401:
                allowed.append(f"{method} {path} ({name}): {status}")
    server.token = token
    _s, _h, after = server.admin("GET", "/behaviours")
    head_status, _headers, head_body = server.admin("HEAD", "/health")
    result.inputs = len(ROUTES) * len(wrong) + 2
    result.figures.update(routes=len(ROUTES), credential_variants=len(wrong), not_401=allowed, head_with_token=head_status)
    result.check(not allowed, f"{len(allowed)} requests without the right token were not 401: {allowed[:4]}")
    result.check(after == before, "requests without the right token changed the set")
    result.check(head_status == 200 and not head_body, f"HEAD /health with the token: {head_status}, expected 200 without a body", "#10/15")
    server.stop()
    leaked = [
        f"{p.name}: {line.strip()[:160]}" for p in (server.log_path, server.journal_path) if p.exists() for line in p.read_text(errors="replace").splitlines() if token in line
    ]
    head_warning = bool(leaked) and all("HEAD request" in line for line in leaked)  # twisted.web's warning about a HEAD answered with a body
    result.check(not leaked, f"the token appears in {len(leaked)} log/journal line(s), e.g. {leaked[:1]}", "#10/15" if head_warning else None)
    result.figures["token_in_log_or_journal"] = len(leaked)


def run_s3(ctx: Context) -> None:
    result, server = ctx.result, ctx.server
    port = server.admin_port
    cases = {
        "Host: evil.example": ("GET", "/health", {"Host": "evil.example"}, None, 403, None),
        "Host: 127.0.0.1.evil.example": ("GET", "/health", {"Host": f"127.0.0.1.evil.example:{port}"}, None, 403, None),
        "Origin: https://evil.example": ("GET", "/health", {"Origin": "https://evil.example"}, None, 403, None),
        "Origin: null": ("PUT", "/behaviours", {"Origin": "null", "Content-Type": "application/yaml"}, SMALL_SET, 403, None),
        "POST as text/plain": ("POST", "/behaviours", {"Content-Type": "text/plain"}, SMALL_SET, 415, None),
        "PUT as a form": ("PUT", "/behaviours", {"Content-Type": "application/x-www-form-urlencoded"}, b"a=b", 415, None),
        "Host: localhost": ("GET", "/health", {"Host": f"localhost:{port}"}, None, 200, None),
        "Host: [::1]": ("GET", "/health", {"Host": f"[::1]:{port}"}, None, 200, "#10/6"),
    }
    cors = []
    for name, (method, path, headers, body, expected, defect) in cases.items():
        status, got, _body = server.admin(method, path, body, headers)
        result.figures[name] = status
        result.check(status == expected, f"{name}: {status}, expected {expected}", defect)
        cors += [name for key in got if key.startswith("access-control-")]
    result.check(not cors, f"CORS headers sent: {cors}")
    result.inputs = len(cases)


BAD_BODIES = {
    '{"select": 5}': b'{"select": 5}',
    '{"select": [[1]]}': b'{"select": [[1]]}',
    '{"select": {"a": 1}}': b'{"select": {"a": 1}}',
    '{"files": 5}': b'{"files": 5}',
    '{"files": [5]}': b'{"files": [5]}',
    '{"files": [{"text": 5}]}': b'{"files": [{"text": 5}]}',
    '{"files": [{"name": 5, "text": "x: 1"}]}': b'{"files": [{"name": 5, "text": "x: 1"}]}',
    '{"select": ["no-such"]}': b'{"select": ["no-such"]}',
    "invalid JSON": b'{"select": [',
    "200,000 nested [": b"[" * 200_000,
    "JSON null": b"null",
    "JSON number": b"5",
    "a 10 MB body": b'"' + b"x" * 10_000_000 + b'"',
}


def run_f7(ctx: Context) -> None:
    result, server = ctx.result, ctx.server
    _s, _h, before = server.admin("GET", "/behaviours")
    figures = {}
    for name, body in BAD_BODIES.items():
        status, _headers, answer = server.admin("PUT", "/behaviours", body, {"Content-Type": "application/json"}, timeout=30)
        figures[name] = status
        named = status < 500 and b'"error"' in answer
        result.check(400 <= status < 500 and named, f"PUT {name}: {status} {answer[:80]!r}", "#10/4" if status >= 500 else None)
        if status >= 500:
            result.traceback_defect = "#10/4"  # the 500s are the tracebacks in the log
    _s, _h, after = server.admin("GET", "/behaviours")
    result.check(after == before, "a refused body changed the set")
    figures["announced 200 MiB, sent 1 KiB"] = _announced_but_not_sent(server)
    result.check(figures["announced 200 MiB, sent 1 KiB"].startswith("413 after"), f"a 200 MiB Content-Length: {figures['announced 200 MiB, sent 1 KiB']}", "#10/15")
    figures["concurrent writers"] = _concurrent_sets(server, ctx.scale(400, 60))
    result.check(figures["concurrent writers"]["partial_sets_seen"] == 0, f"a reader saw a set that is neither A nor B: {figures['concurrent writers']}")
    server.admin("POST", "/behaviours/restore")
    result.figures.update(figures)
    result.inputs = len(BAD_BODIES) + 1 + figures["concurrent writers"]["writes"]


def _announced_but_not_sent(server: Server) -> str:
    """Announce a 200 MiB body, send 1 KiB, and wait for the answer: it must not wait for the rest."""
    with socket.create_connection((HOST, server.admin_port), timeout=5) as sock:
        sock.sendall(
            f"PUT /behaviours HTTP/1.1\r\nHost: 127.0.0.1:{server.admin_port}\r\nContent-Type: application/json\r\nContent-Length: {200 * 1024 * 1024}\r\n\r\n".encode()
            + b" " * 1024
        )
        started = time.monotonic()
        try:
            data = sock.recv(4096)
        except TimeoutError:
            return "no answer within 5 s (the body is being read first)"
        return f"{data[9:12].decode(errors='replace')} after {time.monotonic() - started:.2f} s"


def _concurrent_sets(server: Server, writes: int) -> dict:
    sets = {"A": ["echo", "stress-probe"], "B": ["early-hints", "stress-probe", "drip"]}
    expected = {tuple(sorted(names)) for names in sets.values()}
    seen, partial, failures = 0, 0, 0
    stop = threading.Event()

    def reader():
        nonlocal seen, partial
        while not stop.is_set():
            status, _h, body = server.admin("GET", "/behaviours")
            if status == 200:
                names = tuple(sorted(b["name"] for b in json.loads(body)["behaviours"]))
                seen += 1
                partial += names not in expected
            else:
                partial += 1

    def writer(offset: int):
        nonlocal failures
        for index in range(offset, writes, 4):
            body = json.dumps({"select": sets["AB"[index % 2]]}).encode()
            status, _h, _b = server.admin("PUT", "/behaviours", body, {"Content-Type": "application/json"})
            failures += status != 200

    server.admin("PUT", "/behaviours", json.dumps({"select": sets["A"]}).encode(), {"Content-Type": "application/json"})
    readers = [threading.Thread(target=reader) for _ in range(4)]
    writers = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    for thread in readers:
        thread.join()
    return {"writes": writes, "failed_writes": failures, "reads": seen, "partial_sets_seen": partial}
