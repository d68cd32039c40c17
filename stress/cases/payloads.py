"""Hostile behaviour files and parameters: S4 (YAML payloads), S5 (body_file escapes),
S6 (regex) and S7 (bounds) of reliability.md.

- S4: Python tags, the alias bomb, deep nesting and oversized files, by file (``mockorigin
  check``) and by control API upload: refused with located one-line errors, no canary file,
  the bomb before it is built (#10 defect 7), no reactor stall;
- S5: every way out of the behaviours folder is refused at load; at serve time, a file or a
  directory swapped for a link out is never served (#10 defect 3), and ``--watch`` says so;
- S6: an invalid or oversized regex is a load error; a catastrophic one answers within
  150 ms, alone and twenty at once (#10 defect 8), and the reactor keeps serving;
- S7: limits at load (hang, sizes, counts, a drip's total time) and floors on catalogue
  parameters (#10 defect 2: a drip with every=0ms holds the reactor).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from mockorigin.format.loader import LoadError, load_text
from stress.runner import Context
from stress.server import ROOT, Server

LOCATED = re.compile(r"^.+:\d+:\d+: .+$")
ALIAS_BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join('*' + chr(97 + i) for _ in range(9))}]\n" for i in range(8)
)  # the classic "billion laughs": nine levels of nine, 9**9 strings from 342 bytes


def _check(*paths: str, timeout: float = 20) -> tuple[int | None, str, float]:
    """``mockorigin check``: (exit code or None on timeout, output, seconds)."""
    started = time.monotonic()
    try:
        run = subprocess.run([sys.executable, "-m", "mockorigin", "check", *paths], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timed out", time.monotonic() - started
    return run.returncode, run.stdout + run.stderr, time.monotonic() - started


def _refused_cleanly(code: int | None, output: str) -> bool:
    lines = [line for line in output.splitlines() if line and not line.startswith("mockorigin: ")]
    return code == 2 and "Traceback" not in output and bool(lines) and all(LOCATED.match(line) for line in lines)


def _check_each(paths: dict[str, Path], timeout: float = 30) -> dict[str, dict]:
    """One ``mockorigin check`` of every path (one interpreter start, not one each): for each
    name, whether its file or folder was refused with located one-line errors."""
    code, output, seconds = _check(*map(str, paths.values()), timeout=timeout)
    clean = code == 2 and "Traceback" not in output
    lines = [line for line in output.splitlines() if line and not line.startswith("mockorigin: ")]
    verdicts = {}
    for name, path in paths.items():
        own = [line for line in lines if line.startswith(f"{path}:") or line.startswith(f"{path}/")]
        verdicts[name] = {"refused": clean and bool(own) and all(LOCATED.match(line) for line in own), "first_line": own[0][len(str(path)) :][:140] if own else None}
    verdicts["(all)"] = {"exit": code, "seconds": round(seconds, 2), "unlocated_lines": [line[:120] for line in lines if not LOCATED.match(line)][:3]}
    return verdicts


class _Stalls:
    """The longest gap between answers to back-to-back probes of ``server``, while running."""

    def __init__(self, server: Server):
        self.server, self.worst, self._stop = server, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self):
        while not self._stop.is_set():
            took = self.server.probe(timeout=10)
            self.worst = max(self.worst, 10_000.0 if took is None else took)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def run_s4(ctx: Context) -> None:
    result, folder = ctx.result, ctx.folder
    calls = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in sorted((ROOT / "mockorigin").rglob("*.py"))
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if re.search(r"yaml\.load\((?!.*Safe)|unsafe_load|full_load|FullLoader|yaml\.Loader\b|UnsafeLoader", line)
    ]
    result.figures["unsafe_yaml_call_sites"] = calls
    result.check(not calls, f"unsafe YAML loading at {calls}")
    canary = folder / "CANARY"
    payloads = {
        "python/object/apply os.system": f'name: !!python/object/apply:os.system ["touch {canary}"]\nscript: [{{respond: 200}}]\n',
        "python/object/apply subprocess.Popen": f'name: x1\nscript: !!python/object/apply:subprocess.Popen [["touch", "{canary}"]]\n',
        "python/object/new": f'name: x2\nsummary: !!python/object/new:os.system ["touch {canary}"]\nscript: [{{respond: 200}}]\n',
        "python/name": "name: !!python/name:os.system\nscript: [{respond: 200}]\n",
        "alias bomb": ALIAS_BOMB,
        "1000-deep nesting": "[" * 1000 + "]" * 1000 + "\n",
        "10 MiB file": "# " + "x" * (10 * 1024 * 1024) + "\n",
    }
    files = {}
    for name, text in payloads.items():
        files[name] = folder / (re.sub(r"\W+", "-", name) + ".yaml")
        files[name].write_text(text)
    figures = {"by file": _check_each(files)}
    for name in payloads:
        result.check(figures["by file"][name]["refused"], f"check {name}: not refused with a located error: {figures['by file'][name]}")
    started = time.perf_counter()
    try:
        load_text(ALIAS_BOMB, "bomb.yaml")
        refused = False
    except LoadError:
        refused = True
    bomb_ms = (time.perf_counter() - started) * 1000
    figures["alias bomb in-process"] = {"bytes": len(ALIAS_BOMB), "refused": refused, "ms": round(bomb_ms, 1)}
    result.check(refused and bomb_ms < 50, f"the {len(ALIAS_BOMB)}-byte alias bomb: refused={refused} after {bomb_ms:.0f} ms (limit 50 ms)", "#10/7")
    server = ctx.server
    for name, text in payloads.items():
        if name == "10 MiB file":
            continue
        status, _h, body = server.admin("PUT", "/behaviours", text.encode(), {"Content-Type": "application/yaml"}, timeout=30)
        figures[f"upload: {name}"] = status
        result.check(status == 400 and b"problems" in body, f"upload {name}: {status} {body[:120]!r}")
    with _Stalls(server) as stalls:
        started = time.monotonic()
        threads = [threading.Thread(target=server.admin, args=("PUT", "/behaviours", ALIAS_BOMB.encode(), {"Content-Type": "application/yaml"}, 60)) for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        upload_seconds = time.monotonic() - started
    figures["five bombs uploaded at once"] = {"seconds": round(upload_seconds, 2), "worst_probe_ms": round(stalls.worst, 1)}
    result.check(stalls.worst < 100, f"five alias bombs uploaded at once stall the reactor: worst probe {stalls.worst:.0f} ms (limit 100)", "#10/7")
    result.check(not canary.exists(), "a YAML payload created the canary file")
    result.figures.update(figures)
    result.inputs = 2 * len(payloads)


BODY_FILE = 'name: {name}\nmatch: {{path: /{name}}}\nscript: [{{respond: {{status: 200, body_file: "{path}"}}}}]\n'


def run_s5(ctx: Context) -> None:
    result, folder = ctx.result, ctx.folder
    outside = folder / "outside"
    outside.mkdir()
    (outside / "data.txt").write_text("SECRET-S5\n")
    escapes = {
        "../": "../outside/data.txt",
        "absolute": "/etc/passwd",
        "%2e%2e": "%2e%2e/outside/data.txt",
        "backslash": "..\\\\outside\\\\data.txt",
        "NUL": "data\\0.txt",
        "4 KiB name": "a" * 4096,
        "a directory": "adir",
        "a FIFO": "fifo",
        "/dev/zero": "/dev/zero",
        "inner link out": "link-out.txt",
        "directory link out": "dir-out/data.txt",
    }
    folders = {}
    for index, (name, path) in enumerate(escapes.items()):
        behaviours = folders[name] = folder / f"escape{index}"
        behaviours.mkdir()
        (behaviours / "adir").mkdir()
        os.mkfifo(behaviours / "fifo")
        (behaviours / "link-out.txt").symlink_to(outside / "data.txt")
        (behaviours / "dir-out").symlink_to(outside)
        (behaviours / "b.yaml").write_text(BODY_FILE.format(name=f"b{index}", path=path))
    figures = {"escapes": _check_each(folders, timeout=15)}
    for name in escapes:
        result.check(figures["escapes"][name]["refused"], f"body_file {name!r} not refused at load: {figures['escapes'][name]}")
    _swaps(ctx, outside, figures)
    result.figures.update(figures)
    result.inputs = len(escapes) + 2


def _swaps(ctx: Context, outside: Path, figures: dict) -> None:
    """Serve files from inside, then swap a file and a directory for links out."""
    result = ctx.result
    behaviours = ctx.folder / "served"
    (behaviours / "sub").mkdir(parents=True)
    (behaviours / "sub" / "data.txt").write_text("inside\n")
    (behaviours / "file.txt").write_text("inside\n")
    (outside / "file.txt").write_text("SECRET-S5\n")
    (behaviours / "b.yaml").write_text(BODY_FILE.format(name="file", path="file.txt") + "---\n" + BODY_FILE.format(name="sub", path="sub/data.txt"))
    server = ctx.own_server("s5", "--watch", paths=[str(behaviours)]).start()
    before = {name: server.probe(f"/{name}") is not None for name in ("file", "sub")}
    (behaviours / "file.txt").unlink()
    (behaviours / "file.txt").symlink_to(outside / "file.txt")
    shutil.rmtree(behaviours / "sub")
    (behaviours / "sub").symlink_to(outside)
    time.sleep(1.5)  # the watcher polls twice a second
    from stress.net import exchange

    for name, defect in (("file", None), ("sub", "#10/3")):
        data, _ended = exchange(server.port, f"GET /{name} HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n".encode(), timeout=5)
        figures[f"after swapping {name} for a link out"] = data.split(b"\r\n", 1)[0].decode(errors="replace")
        result.check(b"SECRET-S5" not in data, f"{name}: a file outside the behaviours folder was served after a swap", defect)
    status, _h, body = server.admin("GET", "/health")
    health = json.loads(body) if status == 200 else {}
    figures["health after the swaps"] = health.get("status")
    result.check(health.get("status") == "degraded", f"with --watch, /health says {health.get('status')!r} after a body_file directory became a link out", "#10/3")
    result.check(all(before.values()), f"the served files did not answer before the swaps: {before}")
    server.stop()


CATASTROPHIC = 'name: regex{n}\nmatch: {{path: {{regex: "^/(a|aa)+{n}$"}}}}\nscript: [{{respond: 200}}]\n'


def run_s6(ctx: Context) -> None:
    result, folder = ctx.result, ctx.folder
    files = {}
    for index, (name, pattern) in enumerate((("invalid", "^/(a"), ("2 KiB", "/" + "a" * 2048))):
        files[name] = folder / f"regex-{index}.yaml"
        files[name].write_text(f'name: r{index}\nmatch: {{path: {{regex: "{pattern}"}}}}\nscript: [{{respond: 200}}]\n')
    figures = {"at load": _check_each(files)}
    for name in files:
        result.check(figures["at load"][name]["refused"], f"{name} regex not refused at load: {figures['at load'][name]}")
    for count, defect in ((1, "#10/8"), (ctx.scale(20, 5), "#10/8")):  # one: the regex module's own timeout overshoots 100 ms under load
        behaviours = folder / f"regex{count}"
        behaviours.mkdir()
        (behaviours / "r.yaml").write_text("---\n".join(CATASTROPHIC.format(n="" if count == 1 else i) for i in range(count)))
        (behaviours / "probe.yaml").write_text("name: probe\nmatch: {path: /__probe}\nscript: [{respond: 200}]\n")
        server = ctx.own_server(f"s6-{count}", paths=[str(behaviours)]).start()
        with _Stalls(server) as stalls:
            took = server.probe("/" + "a" * 40 + "!", timeout=30)
        entries = [e for e in server.journal() if e["request"] and "!" in e["request"]["target"]]
        flagged = bool(entries) and any("regex_timeout" in p for p in entries[-1]["problems"])
        after = server.probe()
        figures[f"{count} catastrophic"] = {"answered_ms": None if took is None else round(took), "worst_probe_ms": round(stalls.worst), "flagged": flagged}
        result.check(took is not None and took < 150, f"{count} catastrophic regex(es): answered after {took} ms (limit 150)", defect)
        result.check(stalls.worst < 150, f"{count} catastrophic regex(es): the reactor stalled {stalls.worst:.0f} ms (limit 150)", defect)
        result.check(flagged, f"{count} catastrophic regex(es): no regex_timeout problem in the journal")
        result.check(after is not None, "the next request after a regex timeout was not served")
        server.stop()
    result.figures.update(figures)
    result.inputs = 4


BOUNDS = {
    "hang: 1e9": "name: b\nscript: [{hang: 1000000000}]\n",
    "body_size: 10 GB": "name: b\nscript: [{respond: {status: 200, body_size: 10GB}}]\n",
    "interim count 1e6": "name: b\nscript: [{interim: {status: 102, count: 1000000}}, {respond: 200}]\n",
    "drip of 10 GB": "name: b\nscript: [{respond: {status: 200, body_size: 10GB, drip: {bytes: 1, every: 1ms}}}]\n",
    "a 64 MiB drip, 1 byte a minute": "name: b\nscript: [{respond: {status: 200, body_size: 64MiB, drip: {bytes: 1, every: 60s}}}]\n",
}


def run_s7(ctx: Context) -> None:
    result, folder, server = ctx.result, ctx.folder, ctx.server
    files = {}
    for index, (name, text) in enumerate(BOUNDS.items()):
        files[name] = folder / f"bound{index}.yaml"
        files[name].write_text(text.replace("name: b", f"name: b{index}"))
    figures = {"at load": _check_each(files)}
    for name in BOUNDS:
        result.check(figures["at load"][name]["refused"], f"{name}: not refused at load", "#10/15" if "minute" in name else None)
    size = ctx.scale("1MiB", "256KiB")
    for label, concurrent in ((f"drip {size} every 0 ms", 1), ("four of them at once", 4)):
        target = f"/drip?bytes={size}&every=0ms"
        cpu_before = server.cpu_seconds()
        with _Stalls(server) as stalls:
            threads = [threading.Thread(target=server.probe, args=(target, 60)) for _ in range(concurrent)]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            seconds = time.monotonic() - started
        figures[label] = {"seconds": round(seconds, 2), "server_cpu_s": round(server.cpu_seconds() - cpu_before, 2), "worst_probe_ms": round(stalls.worst)}
        result.check(stalls.worst < 100, f"{label}: other clients' probes waited {stalls.worst:.0f} ms (limit 100)", "#10/2")
    result.figures.update(figures)
    result.inputs = len(BOUNDS) + 5
