"""``mockorigin`` and ``python -m mockorigin``: ``main(argv) -> exit code``.

Exit codes: 0 clean stop, 1 runtime failure (such as a port in use), 2 usage
or invalid behaviour files.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import sys
from collections.abc import Sequence

from mockorigin import limits as limit_values
from mockorigin.version import __version__
from mockorigin.interpreter.answers import describe, grouped
from mockorigin.format.loader import LoadError, catalogue_path, in_file_order, load_paths, schema
from mockorigin.format.shape import schema_file
from mockorigin.format.units import parse_duration, parse_size

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def add_serve_options(serve: argparse.ArgumentParser) -> None:
    """The options of ``serve``, shared with ``twistd mockorigin``."""
    serve.add_argument("paths", nargs="*", metavar="PATH", help="behaviour files or folders")
    serve.add_argument("--listen", action="append", metavar="ENDPOINT", help="Twisted endpoint string, repeatable (default: tcp:8080:interface=127.0.0.1)")
    serve.add_argument("--admin", default="tcp:0:interface=127.0.0.1", metavar="ENDPOINT", help="control API endpoint (default: a free port on 127.0.0.1; 'none' turns it off)")
    serve.add_argument("--admin-token", metavar="TOKEN", help="require `Authorization: Bearer TOKEN` on the control API (default: $MOCKORIGIN_ADMIN_TOKEN); "
                       "other local users can read it in the process list (/proc/PID/cmdline): prefer --admin-token-file or the variable")
    serve.add_argument("--admin-token-file", metavar="FILE", help="like --admin-token, the token being the first line of FILE (kept out of the process list)")
    serve.add_argument("--ready-file", metavar="FILE", help='written atomically once listening: {"pid", "urls", "admin"}')
    serve.add_argument("--journal", metavar="FILE", help="append one JSON line per finished exchange ('-': standard output, flushed per line)")
    serve.add_argument("--journal-max-size", default="64MiB", metavar="SIZE", help="rotate the journal file past this size to FILE.1 (default 64MiB; 0: never)")
    serve.add_argument("--journal-keep", type=int, default=1, metavar="N", help="rotated journal files kept: FILE.1 .. FILE.N (default 1)")
    serve.add_argument("--journal-size", type=int, default=10_000, metavar="N", help="entries kept in memory for the control API (default 10000; 0 keeps none)")
    serve.add_argument("--watch", action="store_true", help="reload behaviour files when they change (a set with any error is refused whole)")
    serve.add_argument("--grace", type=float, default=5.0, metavar="SECONDS", help="on SIGTERM, how long running scripts may finish before the rest is aborted (default 5)")
    serve.add_argument("--daemon", action="store_true", help="detach; exit 0 only once listening (needs --pidfile)")
    serve.add_argument("--pidfile", metavar="FILE", help="with --daemon: where the daemon's PID goes (removed on stop)")
    serve.add_argument("--log-file", metavar="FILE", help="with --daemon: append the log here (default: discarded)")
    serve.add_argument("--quiet", action="store_true", help="no line per request in the log")
    tls = serve.add_argument_group("TLS (ALPN h2 and http/1.1; an ssl: endpoint always speaks TLS)")
    tls.add_argument("--tls", action="store_true", help="serve TLS on every tcp/unix --listen too, with a certificate signed by a CA made at start "
                     "(written beside the ready file, named there as \"ca\")")
    tls.add_argument("--tls-cert", metavar="FILE", help="PEM certificate (chain) for TLS listeners instead of the generated one")
    tls.add_argument("--tls-key", metavar="FILE", help="its PEM private key (default: in --tls-cert's file)")
    limits = serve.add_argument_group("connection limits (docs/limits.md; a behaviour's own `limits` override the body and idle ones)")
    limits.add_argument("--head-timeout", default="10s", metavar="DURATION", help="a request head must be whole this long after its first byte, else 408 (default 10s)")
    limits.add_argument("--idle-timeout", default="75s", metavar="DURATION", help="a kept-alive connection waiting this long for a request is closed (default 75s)")
    limits.add_argument("--body-timeout", default="10s", metavar="DURATION", help="while a script waits for the body, each window this long ... (default 10s)")
    limits.add_argument("--body-min-rate", default="1KiB", metavar="SIZE", help="... must bring this much a second, else 408 (default 1KiB; 0: a byte per window)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mockorigin", description="A mock origin server that misbehaves exactly as scripted.")
    parser.add_argument("--version", action="version", version=f"mockorigin {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    serve = commands.add_parser("serve", help="serve behaviours (default: the built-in catalogue)")
    add_serve_options(serve)

    check = commands.add_parser("check", help="validate behaviour files (default: the built-in catalogue); exit 2 with FILE:LINE:COL lines on any problem")
    check.add_argument("paths", nargs="*", metavar="PATH")

    listing = commands.add_parser("list", help="name, match and summary of each behaviour")
    listing.add_argument("paths", nargs="*", metavar="PATH")
    listing.add_argument("--json", action="store_true", help="as JSON")

    stop = commands.add_parser("stop", help="stop a daemon: SIGTERM the PID in --pidfile and wait for it to exit")
    stop.add_argument("--pidfile", required=True, metavar="FILE")
    stop.add_argument("--timeout", type=float, default=15.0, metavar="SECONDS", help="how long to wait (default 15)")

    schema_command = commands.add_parser("schema", help="print the JSON Schema of behaviour files (for editors: docs/format.md)")
    schema_command.add_argument("--path", action="store_true", help="print where the installed schema file is instead")

    from mockorigin.compat import commands as compat_commands

    compat_commands.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    code = EXIT_OK
    try:
        code = _run(argv)
        sys.stdout.flush()  # here, where a reader that has gone away can be told apart
    except BrokenPipeError:
        _quiet_broken_pipes()
    return code


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        options = parser.parse_args(argv)
    except SystemExit as exit_:
        return EXIT_OK if exit_.code == 0 else EXIT_USAGE
    if hasattr(options, "compat_main"):
        return options.compat_main(options)
    return {"serve": _serve, "check": _check, "list": _list, "schema": _schema, "stop": _stop}[options.command](options)


def _quiet_broken_pipes() -> None:
    """Our reader left (``mockorigin list | head -1``): the rest goes nowhere, with no traceback and the verdict kept."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for descriptor in (1, 2):
        os.dup2(devnull, descriptor)
    os.close(devnull)


def _load(paths: Sequence[str], warnings: list | None = None):
    try:
        behaviours = load_paths(paths or [catalogue_path()], warnings=warnings)
    except LoadError as error:
        for line in in_file_order([*error.problems, *(warnings or ())]):
            _say(line)
        count = len(error.problems)
        _say(f"mockorigin: {count} problem{'s' if count != 1 else ''}; nothing loaded")
        return None
    for warning in warnings or ():
        _say(warning)
    return behaviours


def _say(text: object) -> None:
    """A line on standard error; a reader gone away changes no verdict (``check x 2>&1 | head -1``)."""
    try:
        print(text, file=sys.stderr)
    except BrokenPipeError:
        _quiet_broken_pipes()


def _check(options) -> int:
    """Problems (exit 2) and warnings (exit 0: a misbehaviour may be meant), as ``FILE:LINE:COL: ...``."""
    warnings: list = []
    behaviours = _load(options.paths, warnings)
    if behaviours is None:
        return EXIT_USAGE
    count = len(warnings)
    also = f" ({count} warning{'s' if count != 1 else ''})" if count else ""
    print(f"ok: {len(behaviours)} behaviour{'s' if len(behaviours) != 1 else ''}{also}")
    return EXIT_OK


def _list(options) -> int:
    behaviours = _load(options.paths)
    if behaviours is None:
        return EXIT_USAGE
    if options.json:
        print(json.dumps([describe(b) for b in behaviours], indent=1))
        return EXIT_OK
    for title, members in grouped(behaviours):
        print(f"{title}\n")
        for entry in map(describe, members):
            methods = ",".join(entry["methods"] or ["*"])
            params = " ".join(f"{k}={v}" for k, v in entry["params"].items())
            print(f"  {entry['name']:<28} {methods:<10} {entry['path'] or '(any path)':<28} {params}")
            if entry["summary"]:
                print(f"  {'':<28} {entry['summary']}")
        print()
    return EXIT_OK


def _schema(options) -> int:
    if options.path:
        print(schema_file())
        return EXIT_OK
    print(json.dumps(schema(), indent=2))
    return EXIT_OK


class UsageProblem(Exception):
    """Options that cannot work together; exit 2 with this message."""


def check_serve_options(options) -> str | None:
    """The admin endpoint to use, after refusing unsafe or impossible combinations."""
    from mockorigin.serve.service import is_loopback_endpoint

    if not 0 <= options.grace <= limit_values.MAX_DURATION:
        raise UsageProblem(f"--grace must be between 0 and {limit_values.MAX_DURATION:g} seconds")
    if not 0 <= options.journal_size <= 1_000_000:
        raise UsageProblem("--journal-size must be between 0 and 1000000")
    if options.daemon and not options.pidfile:
        raise UsageProblem("--daemon needs --pidfile")
    if options.daemon and options.journal == "-":
        raise UsageProblem("--journal - (standard output) cannot be used with --daemon, which detaches from it")
    try:
        options.journal_max_bytes = parse_size(options.journal_max_size)
    except ValueError as error:
        raise UsageProblem(f"--journal-max-size: {error}") from None
    if not 1 <= options.journal_keep <= 100:
        raise UsageProblem("--journal-keep must be between 1 and 100")
    for name, parse, low in (("head_timeout", parse_duration, 0.1), ("idle_timeout", parse_duration, 0.1), ("body_timeout", parse_duration, 0.1)):
        try:
            value = parse(getattr(options, name))
        except ValueError as error:
            raise UsageProblem(f"--{name.replace('_', '-')}: {error}") from None
        if not low <= value <= limit_values.MAX_DURATION:
            raise UsageProblem(f"--{name.replace('_', '-')} must be between {low:g}s and {limit_values.MAX_DURATION:g}s")
        setattr(options, name + "_seconds", value)
    try:
        options.body_min_rate_bytes = parse_size(options.body_min_rate)
    except ValueError as error:
        raise UsageProblem(f"--body-min-rate: {error}") from None
    if getattr(options, "tls_key", None) and not getattr(options, "tls_cert", None):
        raise UsageProblem("--tls-key needs --tls-cert")
    options.admin_token = admin_token(options)
    admin = None if options.admin.lower() == "none" else options.admin
    if admin and not is_loopback_endpoint(admin) and not options.admin_token:
        raise UsageProblem(f"the control API on {admin} would be reachable from other machines; give --admin-token, or bind it to 127.0.0.1")
    return admin


def admin_token(options) -> str | None:
    """--admin-token-file, else --admin-token, else $MOCKORIGIN_ADMIN_TOKEN (a file or the
    environment keep it out of the process list). Reads the file once: afterwards the
    token is in ``options.admin_token``."""
    path, options.admin_token_file = options.admin_token_file, None
    if path is None:
        return options.admin_token or os.environ.get("MOCKORIGIN_ADMIN_TOKEN") or None
    if options.admin_token:
        raise UsageProblem("give --admin-token or --admin-token-file, not both")
    from mockorigin.observe.control import read_token_file

    try:
        return read_token_file(path)
    except ValueError as error:
        raise UsageProblem(f"--admin-token-file {path}: {error}") from None


def connection_limits(options) -> limit_values.ConnectionLimits:
    """The server's connection limits from the serve options (already checked)."""
    return limit_values.ConnectionLimits(
        shutdown_grace=options.grace,
        head_deadline=options.head_timeout_seconds,
        idle_timeout=options.idle_timeout_seconds,
        body_timeout=options.body_timeout_seconds,
        body_min_rate=options.body_min_rate_bytes,
    )


def settle_heap() -> None:
    """Take everything loaded so far out of the cyclic collector's view.

    Twisted, our modules and the behaviours live as long as the process. Left in
    the collector's oldest generation they were walked by every full collection,
    which, during a burst of connections, stalled the reactor for milliseconds
    and made timed 1xx responses late (bench (b): p99 of a 100 Continue went from
    15x the bare protocol's to about 1.2x). Only for a process of our own: the
    pytest plugin's in-process server leaves the test process's collector alone.
    """
    gc.collect()
    gc.freeze()


def _second_signal_aborts(service, reactor) -> None:
    """Once the drain has begun, SIGTERM or SIGINT again means now: what is still running is
    cut, and the process exits without waiting out the grace period."""

    def abort(_signal_number, _frame) -> None:
        reactor.callFromThread(service.abort_all)

    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, abort)


def build_service(options, behaviours, reactor):
    """The service ``serve`` and ``twistd mockorigin`` run; ``OSError`` if the journal cannot open."""
    from mockorigin.observe.journal import Journal
    from mockorigin.serve.service import OriginService
    from mockorigin.interpreter.state import ServerState

    admin = check_serve_options(options)
    from mockorigin.observe.journalfile import open_journal

    sink = open_journal(options.journal, options.journal_max_bytes, options.journal_keep) if options.journal else None  # closed by the journal
    journal = Journal(capacity=options.journal_size, sink=sink, clock=None if getattr(sink, "flush_each_entry", False) else reactor)
    if not options.quiet:
        journal.listeners.append(_access_line)
    paths = options.paths or [catalogue_path()]
    root = paths[0] if os.path.isdir(paths[0]) else os.path.dirname(paths[0]) or "."
    return OriginService(
        reactor, ServerState(behaviours), options.listen or [], journal,
        connection_limits(options), options.ready_file,
        admin=admin, admin_token=options.admin_token, behaviours_root=root,
        watch=paths if options.watch else None, paths=paths,
        tls=getattr(options, "tls", False), tls_cert=_absolute(getattr(options, "tls_cert", None)), tls_key=_absolute(getattr(options, "tls_key", None)),
    )


def _absolute(path: str | None) -> str | None:
    return None if path is None else os.path.abspath(path)


def _serve(options) -> int:
    try:
        check_serve_options(options)
    except UsageProblem as problem:
        print(f"mockorigin: {problem}", file=sys.stderr)
        return EXIT_USAGE
    behaviours = _load(options.paths)
    if behaviours is None:
        return EXIT_USAGE
    for name in ("ready_file", "journal", "pidfile", "log_file", "tls_cert", "tls_key"):
        if getattr(options, name) and getattr(options, name) != "-":  # the daemon changes directory to /
            setattr(options, name, os.path.abspath(getattr(options, name)))
    if options.paths:
        options.paths = [os.path.abspath(p) for p in options.paths]
    pipe = None
    if options.daemon:
        from mockorigin.serve import daemon

        try:
            pid = daemon.running_pid(options.pidfile)
        except daemon.DaemonError as error:
            print(f"mockorigin: {error}", file=sys.stderr)
            return EXIT_FAILURE
        if pid is not None:
            print(f"mockorigin: already running as PID {pid} ({options.pidfile})", file=sys.stderr)
            return EXIT_FAILURE
        pipe = daemon.detach(options.log_file)  # only the daemon returns from here

    from twisted.internet import reactor
    from twisted.logger import globalLogBeginner, textFileLogObserver

    globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stderr)], redirectStandardIO=False)
    try:
        service = build_service(options, behaviours, reactor)
    except OSError as error:
        message = f"cannot open journal {options.journal}: {error.strerror}"
        print(f"mockorigin: {message}", file=sys.stderr)
        if pipe is not None:
            from mockorigin.serve import daemon

            daemon.report(pipe, message)
        return EXIT_FAILURE
    if options.daemon:
        _report_to_parent(service, options.pidfile, pipe)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # started in the background, SIGINT came ignored: Twisted would keep it so
    reactor.callWhenRunning(service.startService)
    reactor.addSystemEventTrigger("before", "shutdown", _announce_drain, service)
    reactor.addSystemEventTrigger("before", "shutdown", service.stopService)
    reactor.addSystemEventTrigger("before", "shutdown", _second_signal_aborts, service, reactor)
    reactor.callWhenRunning(settle_heap)  # after startService: listening (and the ready file) does not wait for it
    reactor.run()
    if service.failure is not None and (hint := listen_hint(service.failure)):
        _say(f"mockorigin: {hint}")
    return EXIT_FAILURE if service.failure is not None else EXIT_OK


def listen_hint(failure: str) -> str | None:
    """What to do about a port in use. ``make serve`` passes ``--listen $(LISTEN)``; make sets MAKELEVEL."""
    if "address already in use" not in failure or "(--admin)" in failure:
        return None
    how = "`make serve LISTEN=tcp:9000:interface=127.0.0.1` (LISTEN=tcp:0:" if os.environ.get("MAKELEVEL") else "--listen tcp:9000:interface=127.0.0.1 (tcp:0:"
    return f"another program has that port: serve elsewhere with {how}interface=127.0.0.1 picks a free port, named in the log)"


def _announce_drain(service) -> None:
    """Ctrl-C or SIGTERM: say what the grace period waits for (``Ending.stop_gracefully``), and how to cut it short."""
    waiting = sum(1 for c in service.factory.connections if c.exchange is not None or c.record is not None or c.lingering is not None)
    if waiting:
        from twisted.logger import Logger

        Logger(namespace="mockorigin").info("stopping: waiting up to {grace:g}s for {count} connection{s} still running a script; Ctrl-C again "
                                            "(or another SIGTERM) aborts {them} now", grace=service.factory.limits.shutdown_grace, count=waiting,
                                            s="" if waiting == 1 else "s", them="it" if waiting == 1 else "them")


def _report_to_parent(service, pidfile: str, pipe: int) -> None:
    from mockorigin.serve import daemon

    def listening(_):
        daemon.write_pidfile(pidfile)
        daemon.report(pipe, "ok")

    def failed(_):
        daemon.report(pipe, str(service.failure))

    service.on_started.append((listening, failed))
    service.on_stopped.append(lambda: daemon.remove_pidfile(pidfile))


def _stop(options) -> int:
    from mockorigin.serve import daemon

    return daemon.stop(options.pidfile, options.timeout)


def _access_line(entry: dict) -> None:
    request = entry.get("request")
    if request is None:
        return
    from twisted.logger import Logger

    final = entry.get("final") or {}
    Logger(namespace="mockorigin.access").info(
        "#{id} {method} {target} -> {behaviour}: {interims}{status} ({how})",
        id=entry["id"],
        method=request["method"],
        target=request["target"],
        behaviour=entry["behaviour"] or "-",
        interims="".join(f"{i['status']} " for i in entry["interims"]),
        status=final.get("status", "-"),
        how=entry["ended"]["how"],
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
