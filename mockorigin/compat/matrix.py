"""``python -m mockorigin.compat.matrix``: both checks against every proxy and client
installed here, written to ``docs/compatibility.md`` with the versions that ran.

For each proxy the origin starts first (Squid marks a peer that refused its first
connection as dead), then the proxy with its own config, then proxy-check's cases.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from mockorigin.compat import cases as case_data
from mockorigin.compat import proxies
from mockorigin.compat.clientcheck import check as client_check, command_runner
from mockorigin.compat.origin import Origin
from mockorigin.compat.proxycheck import check as proxy_check
from mockorigin.compat.results import RunResult

DRIVERS = Path(__file__).resolve().parent / "drivers"
ROOT = Path(__file__).resolve().parents[2]

MAIN_TOPIC = {
    "interims": "interims", "interim_then_close": "no final response", "timer": "timer", "expect": "Expect",
    "upgrade": "upgrade", "unsolicited_101": "101", "stall": "stall", "drip": "drip", "reset": "reset",
    "forwarding": "upstream version", "interim_to_http10": "1xx to HTTP/1.0",
}


def clients() -> list[tuple[str, list[str], bool]]:
    """(name, command, is a WebSocket client) for each client installed here."""
    found: list[tuple[str, list[str], bool]] = []
    if shutil.which("curl"):
        found.append(("curl", ["curl", "-sS", "-m", "{timeout}", "-X", "{method}", "-H", "Expect: {expect}", "--data-binary", "@{body_file}", "{url}"], False))
    for library, module in (("http.client", "http"), ("urllib3", "urllib3"), ("requests", "requests"), ("httpx", "httpx"), ("aiohttp", "aiohttp")):
        if _importable(module):
            found.append((library, [sys.executable, str(DRIVERS / "python_client.py"), library], False))
    if shutil.which("node"):
        found += [("node http", ["node", str(DRIVERS / "node_client.mjs"), "http"], False), ("node fetch", ["node", str(DRIVERS / "node_client.mjs"), "fetch"], False)]
    if _importable("websockets"):
        found.append(("websockets", [sys.executable, str(DRIVERS / "ws_client.py")], True))
    return found


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def versions(proxy_kinds: list[str], client_names: list[str]) -> list[tuple[str, str]]:
    rows = [("Python", platform.python_version()), ("mockorigin", importlib.metadata.version("mockorigin"))]
    programs = {proxies.KINDS[k].program: k for k in proxy_kinds}
    for program, kind in programs.items():
        rows.append((program, proxies.version(kind)))
    if "curl" in client_names:
        rows.append(("curl", " ".join(_first_line(["curl", "--version"]).split()[:4])))
    for name, dist in (("urllib3", "urllib3"), ("requests", "requests"), ("httpx", "httpx"), ("aiohttp", "aiohttp"), ("websockets", "websockets")):
        if name in client_names:
            rows.append((name, importlib.metadata.version(dist)))
    if any(n.startswith("node") for n in client_names):
        rows.append(("node", _first_line(["node", "--version"]) + " (undici " + _first_line(["node", "-p", "process.versions.undici"]) + ")"))
    return rows


def _first_line(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    lines = (out.stdout or out.stderr).strip().splitlines()
    return lines[0] if lines else "?"


def run_proxy(kind: str, folder: Path, timing, selected) -> RunResult:
    with Origin("tcp:0:interface=127.0.0.1", _mkdir(folder / f"origin-{kind}")) as origin:
        with proxies.Proxy(kind, origin.port, folder / kind, timeout=timing.proxy_timeout) as proxy:
            run = proxy_check(origin, ("127.0.0.1", proxy.port), selected, timing, proxy.url)
    run.subject = kind
    return run


def run_client(name: str, command: list[str], websocket: bool, folder: Path, timing) -> RunResult:
    selected = case_data.select(None, for_clients=True, websocket=websocket)
    work = _mkdir(folder / f"client-{name.replace(' ', '-')}")
    with Origin("tcp:0:interface=127.0.0.1", work) as origin:
        return client_check(command_runner(command), name, origin, selected, timing, work, websocket=websocket)


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def cell(result) -> str:
    """The case's main verdict, with retries and broken RFC requirements marked."""
    if result.error:
        return f"error: {result.error}"
    judge = next((c.judge for c in case_data.CASES if c.id == result.case_id), "")
    text = result.verdict(MAIN_TOPIC.get(judge, "")) or result.reached
    if judge == "expect":
        text = f"{text}; 100 {result.verdict('100') or ''}; final {result.verdict('final') or ''}"
    elif result.verdict("final"):
        text += f"; {result.verdict('final')}"
    retries = result.verdict("retries")
    if retries:
        text += f" **{retries}**"
    broken = [c.rule for c in result.checks if not c.held]
    if broken:
        text += " **✗ " + ", ".join(broken) + "**"
    return text.replace("|", "\\|")


def client_cell(result) -> str:
    if result.error:
        return f"error: {result.error}"
    parts = [result.reached]
    for topic in ("Expect", "interims", "timer", "1xx to HTTP/1.0", "body", "retries", "gave up", "pings", "close", "requests"):
        text = result.verdict(topic)
        if text:
            parts.append(text)
    broken = [c.rule for c in result.checks if not c.held]
    if broken:
        parts.append("**✗ " + ", ".join(broken) + "**")
    return "; ".join(parts).replace("|", "\\|")


def table(runs: list[RunResult], cell_of) -> list[str]:
    ids = list(dict.fromkeys(c.case_id for run in runs for c in run.cases))
    lines = ["| case | " + " | ".join(run.subject for run in runs) + " |", "|---" * (len(runs) + 1) + "|"]
    for case_id in ids:
        cells = []
        for run in runs:
            found = next((c for c in run.cases if c.case_id == case_id), None)
            cells.append(cell_of(found) if found else "-")
        lines.append(f"| `{case_id}` | " + " | ".join(cells) + " |")
    return lines


def document(proxy_runs, client_runs, version_rows, timing, started: datetime.datetime, seconds: float) -> str:
    lines = [
        "# Compatibility matrix",
        "",
        f"Generated by `python -m mockorigin.compat.matrix` (`make matrix`) on {started:%Y-%m-%d} in {seconds / 60:.0f} min on "
        f"{platform.system()} {platform.machine()}, loopback only: `mockorigin proxy-check` through each proxy "
        f"(upstream timeouts {timing.proxy_timeout:g} s, `--time-scale {timing.scale:g}`) and `mockorigin client-check` "
        "with each client. One run per cell; the raw observations of each run are in the `--json` output of the same commands.",
        "",
        "**✗ RFC …** marks a MUST or MUST NOT the observations show broken. See `docs/proxy-check.md` for what each case does and how to run it yourself.",
        "",
        "## Versions",
        "",
        "| program | version |",
        "|---|---|",
        *[f"| {name} | {value} |" for name, value in version_rows],
        "",
        "## Proxies",
        "",
        *[f"- **{run.subject}**: {proxies.KINDS[run.subject].description}" for run in proxy_runs],
        "",
    ]
    if proxy_runs:
        lines += table(proxy_runs, cell)
    lines += ["", "## Clients", "", "Commands: `client-check -- CMD` with the drivers in `mockorigin/compat/drivers/` (curl: "
              "`curl -sS -m {timeout} -X {method} -H 'Expect: {expect}' --data-binary @{body_file} {url}`).", ""]
    http_runs = [r for r in client_runs if not r.settings.get("websocket")]
    ws_runs = [r for r in client_runs if r.settings.get("websocket")]
    if http_runs:
        lines += table(http_runs, client_cell)
    if ws_runs:
        lines += ["", "### WebSocket clients", ""] + table(ws_runs, client_cell)
    lines += ["", "## RFC requirements broken, per proxy and client", ""]
    for run in proxy_runs + client_runs:
        broken = sorted({f"{c.rule} ({c.requirement})" for r in run.cases for c in r.checks if not c.held})
        lines.append(f"- **{run.subject}**: " + ("; ".join(broken) if broken else "none seen"))
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mockorigin.compat.matrix", description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(ROOT / "docs" / "compatibility.md"), metavar="FILE")
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--proxy-timeout", type=float, default=3.0)
    parser.add_argument("--proxies", help="comma-separated kinds (default: every one installed)")
    parser.add_argument("--clients", help="comma-separated client names (default: every one installed)")
    parser.add_argument("--cases", help="proxy cases, as --cases of proxy-check (default: all)")
    options = parser.parse_args(argv)
    timing = case_data.Timing(scale=options.time_scale, proxy_timeout=options.proxy_timeout)
    kinds = [k for k in (options.proxies.split(",") if options.proxies else proxies.KINDS) if proxies.installed(k)]
    found = [c for c in clients() if not options.clients or c[0] in options.clients.split(",")]
    started, clock = datetime.datetime.now(datetime.timezone.utc), _monotonic()
    proxy_runs, client_runs = [], []
    with tempfile.TemporaryDirectory(prefix="mockorigin-matrix-") as work:
        folder = Path(work)
        folder.chmod(0o755)  # proxies that drop privileges read their configs from here
        for kind in kinds:
            print(f"proxy-check through {kind} ...", file=sys.stderr, flush=True)
            try:
                proxy_runs.append(run_proxy(kind, folder, timing, case_data.select(options.cases)))
            except proxies.ProxyError as error:
                print(f"  skipped: {error}", file=sys.stderr)
        for name, command, websocket in found:
            print(f"client-check with {name} ...", file=sys.stderr, flush=True)
            run = run_client(name, command, websocket, folder, timing)
            run.settings["websocket"] = websocket
            client_runs.append(run)
    text = document(proxy_runs, client_runs, versions(kinds, [c[0] for c in found]), timing, started, _monotonic() - clock)
    Path(options.output).parent.mkdir(parents=True, exist_ok=True)
    Path(options.output).write_text(text, encoding="utf-8")
    print(f"wrote {options.output}", file=sys.stderr)
    return 0


def _monotonic() -> float:
    import time

    return time.monotonic()


if __name__ == "__main__":
    sys.exit(main())
