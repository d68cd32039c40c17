"""``mockorigin client-check -- CMD ...``: the user's client, once per case, judged from the journal.

The command is run with substitutions in every argument (``{url}`` and friends, see
``SUBSTITUTIONS``) and the same values in the environment (``MO_URL``, ...), so shell
one-liners and scripts both work. Each run is bounded (``--timeout``, else the longer of
the case's ``{timeout}`` and its script, plus a margin); what the origin saw is read from its journal by the case
token in the URL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from mockorigin.compat import cases as case_data
from mockorigin.compat import report
from mockorigin.compat.clientverdicts import CommandRun, judge_client
from mockorigin.compat.options import EXIT_USAGE, list_cases, timing_from, work_folder
from mockorigin.compat.origin import Origin, SetupError
from mockorigin.compat.results import CaseResult, Progress, RunResult

SUBSTITUTIONS = {
    "url": "the case's full URL (ws:// with --ws), carrying the case token",
    "method": "GET or POST",
    "body_file": "a file holding the request body (empty for GET)",
    "body_size": "its size in bytes",
    "expect": "'100-continue' when the case wants Expect sent, else empty",
    "host": "the origin's host", "port": "its port", "origin": "its base URL",
    "path": "path and query of the case", "timeout": "seconds the client should allow (scaled)",
    "case": "the case id",
}
KILL_MARGIN = 3.0


def substitutions(case, origin: Origin, timing, token: str, body_file: Path, websocket: bool) -> dict[str, str]:
    path = case.target(timing, token)
    base = origin.url.rstrip("/")
    url = ("ws" + base[4:] if websocket else base) + path
    return {
        "url": url, "method": case.method, "body_file": str(body_file), "body_size": str(case.body),
        "expect": "100-continue" if case.expect_wait is not None else "", "host": origin.host, "port": str(origin.port),
        "origin": origin.url, "path": path, "timeout": f"{timing.seconds(case.client_timeout):g}", "case": case.id,
    }


def expand(argv: list[str], values: dict[str, str]) -> list[str]:
    """``{name}`` replaced in each argument; other braces are left alone (JSON, shell)."""
    out = []
    for arg in argv:
        for name, value in values.items():
            arg = arg.replace("{" + name + "}", value)
        out.append(arg)
    return out


def run_command(argv: list[str], env: dict[str, str], bound: float, token: str = "") -> CommandRun:
    started = time.monotonic()
    try:
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    except OSError as error:
        raise SetupError(f"cannot run {argv[0]}: {error.strerror or error}") from None
    try:
        out, err = process.communicate(timeout=bound)
        code: int | None = process.returncode
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, 9)
        except ProcessLookupError:
            pass
        out, err = process.communicate()
        code = None
    tail = next((line.strip() for line in reversed(err.decode("utf-8", "replace").splitlines()) if line.strip()), "")
    return CommandRun(argv, code, time.monotonic() - started, len(out), tail[:200], bool(token) and token.encode() in out)


def command_runner(command: list[str]):
    """Runs the user's command with the case's values substituted and in its environment."""

    def run(values: dict[str, str], bound: float, token: str) -> CommandRun:
        env = dict(os.environ, **{f"MO_{k.upper()}": v for k, v in values.items()})
        return run_command(expand(command, values), env, bound, token)

    return run


def run_case(case, runner, origin: Origin, timing, run_id: str, folder: Path, kill_after: float | None, websocket: bool) -> CaseResult:
    token = f"{run_id}.{case.id}"
    body_file = folder / f"body-{case.id}"
    body_file.write_bytes(b"x" * case.body)
    values = substitutions(case, origin, timing, token, body_file, websocket)
    bound = kill_after if kill_after is not None else max(timing.seconds(case.client_timeout), case.bound(timing)) + KILL_MARGIN
    started = time.monotonic()
    run = runner(values, bound, token)
    view = origin.view(token, settle=max(0.2, 0.3 * timing.scale))
    judgement = judge_client(case, run, view, timing)
    return CaseResult(
        case.id, case.group, case.title, run.summary(), judgement.verdicts, judgement.checks,
        {"url": values["url"], "command": run.as_json(), "origin": {"entries": view.entries, "open": view.open_requests}},
        seconds=time.monotonic() - started,
    )


def check(runner, subject: str, origin: Origin, selected, timing, folder: Path, kill_after=None, websocket=False) -> RunResult:
    run_id = f"{os.getpid():x}{int(time.time()) % 100000:x}"
    progress = Progress(len(selected))
    results = []
    for index, case in enumerate(selected, 1):
        progress.start(index, case.id)
        try:
            results.append(run_case(case, runner, origin, timing, run_id, folder, kill_after, websocket))
        except SetupError:
            raise
        except Exception as error:  # one case's failure must not lose the others' results
            results.append(CaseResult(case.id, case.group, case.title, "-", error=f"{type(error).__name__}: {error}"))
    progress.done()
    return RunResult("client-check", subject, {"client": subject, "origin": origin.url, "time_scale": timing.scale}, results)


def main(options) -> int:
    command = list(options.command)
    if command and command[0] == "--":
        command = command[1:]
    try:
        selected = case_data.select(options.cases, for_clients=True, websocket=options.ws)
        if options.list_cases:
            print(list_cases(selected))
            return 0
        if not command:
            raise SetupError("give the client command after --, e.g. client-check -- curl -sS -m {timeout} {url}")
        if options.timeout is not None and not 0.1 <= options.timeout <= 600:
            raise SetupError("--timeout must be between 0.1 and 600 seconds")
        timing = timing_from(options)
        with work_folder() as folder, Origin(options.origin, Path(folder), options.origin_ready) as origin:
            subject = options.name or " ".join(command)
            run = check(command_runner(command), subject, origin, selected, timing, Path(folder), options.timeout, options.ws)
    except (SetupError, case_data.UnknownCases) as problem:
        print(f"mockorigin client-check: {problem}", file=sys.stderr)
        return EXIT_USAGE
    report.write_all(run, options, sys.stdout)
    return run.exit_code()
