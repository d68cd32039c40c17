"""``mockorigin`` and ``python -m mockorigin``: ``main(argv) -> exit code``.

Exit codes: 0 clean stop, 1 runtime failure (such as a port in use), 2 usage
or invalid behaviour files.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence

from mockorigin.serve.options import UsageProblem, add_serve_options, build_service, check_serve_options, settle_heap
from mockorigin.version import __version__
from mockorigin.interpreter.answers import describe, grouped
from mockorigin.format.loader import LoadError, catalogue_path, in_file_order, load_paths, schema
from mockorigin.format.shape import schema_file

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


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


def _second_signal_aborts(service, reactor) -> None:
    """Once the drain has begun, SIGTERM or SIGINT again means now: what is still running is
    cut, and the process exits without waiting out the grace period."""

    def abort(_signal_number, _frame) -> None:
        reactor.callFromThread(service.abort_all)

    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, abort)


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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
