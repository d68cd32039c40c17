"""``mockorigin`` and ``python -m mockorigin``: ``main(argv) -> exit code``.

Exit codes: 0 clean stop, 1 runtime failure (such as a port in use), 2 usage
or invalid behaviour files.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from importlib import resources
from collections.abc import Sequence

from mockorigin import limits as limit_values
from mockorigin.index import describe
from mockorigin.loader import LoadError, load_paths, schema

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def catalogue_path() -> str:
    """The built-in catalogue, shipped inside the package."""
    return str(resources.files("mockorigin").joinpath("catalogue"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mockorigin", description="A mock origin server that misbehaves exactly as scripted.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    serve = commands.add_parser("serve", help="serve behaviours (default: the built-in catalogue)")
    serve.add_argument("paths", nargs="*", metavar="PATH", help="behaviour files or folders")
    serve.add_argument("--listen", action="append", metavar="ENDPOINT", help="Twisted endpoint string, repeatable (default: tcp:8080:interface=127.0.0.1)")
    serve.add_argument("--ready-file", metavar="FILE", help='written atomically once listening: {"pid", "urls", "admin"}')
    serve.add_argument("--admin", default="tcp:0:interface=127.0.0.1", metavar="ENDPOINT", help="control API endpoint (default: a free port on 127.0.0.1; 'none' turns it off)")
    serve.add_argument("--admin-token", metavar="TOKEN", default=os.environ.get("MOCKORIGIN_ADMIN_TOKEN"), help="require `Authorization: Bearer TOKEN` on the control API (default: $MOCKORIGIN_ADMIN_TOKEN)")
    serve.add_argument("--journal", metavar="FILE", help="append one JSON line per finished exchange")
    serve.add_argument("--journal-size", type=int, default=10_000, metavar="N", help="entries kept in memory for the control API (default 10000; 0 keeps none)")
    serve.add_argument("--watch", action="store_true", help="reload behaviour files when they change (a set with any error is refused whole)")
    serve.add_argument("--grace", type=float, default=5.0, metavar="SECONDS", help="on SIGTERM, how long running scripts may finish before the rest is aborted (default 5)")
    serve.add_argument("--quiet", action="store_true", help="no line per request on stderr")

    check = commands.add_parser("check", help="validate behaviour files; exit 2 with FILE:LINE:COL lines on any problem")
    check.add_argument("paths", nargs="+", metavar="PATH")

    listing = commands.add_parser("list", help="name, match and summary of each behaviour")
    listing.add_argument("paths", nargs="*", metavar="PATH")
    listing.add_argument("--json", action="store_true", help="as JSON")

    commands.add_parser("schema", help="print the JSON Schema of behaviour files")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        options = parser.parse_args(argv)
    except SystemExit as exit_:
        return EXIT_OK if exit_.code == 0 else EXIT_USAGE
    return {"serve": _serve, "check": _check, "list": _list, "schema": _schema}[options.command](options)


def _load(paths: Sequence[str]):
    try:
        return load_paths(paths or [catalogue_path()])
    except LoadError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        count = len(error.problems)
        print(f"mockorigin: {count} problem{'s' if count != 1 else ''}; nothing loaded", file=sys.stderr)
        return None


def _check(options) -> int:
    behaviours = _load(options.paths)
    if behaviours is None:
        return EXIT_USAGE
    print(f"ok: {len(behaviours)} behaviour{'s' if len(behaviours) != 1 else ''}")
    return EXIT_OK


def _list(options) -> int:
    behaviours = _load(options.paths)
    if behaviours is None:
        return EXIT_USAGE
    entries = [describe(b) for b in behaviours]
    if options.json:
        print(json.dumps(entries, indent=1))
        return EXIT_OK
    for entry in entries:
        methods = ",".join(entry["methods"] or ["*"])
        params = " ".join(f"{k}={v}" for k, v in entry["params"].items())
        print(f"{entry['name']:<28} {methods:<10} {entry['path'] or '(any path)':<28} {params}")
        if entry["summary"]:
            print(f"{'':<28} {entry['summary']}")
    return EXIT_OK


def _schema(options) -> int:
    print(json.dumps(schema(), indent=2))
    return EXIT_OK


def _serve(options) -> int:
    behaviours = _load(options.paths)
    if behaviours is None:
        return EXIT_USAGE
    from twisted.internet import reactor
    from twisted.logger import globalLogBeginner, textFileLogObserver

    from mockorigin.journal import Journal
    from mockorigin.service import ListenError, OriginService, is_loopback_endpoint
    from mockorigin.state import ServerState

    globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stderr)], redirectStandardIO=False)
    sink = None
    if options.journal:
        try:
            sink = open(options.journal, "ab")
        except OSError as error:
            print(f"mockorigin: cannot open journal {options.journal}: {error.strerror}", file=sys.stderr)
            return EXIT_FAILURE
    journal = Journal(capacity=options.journal_size, sink=sink, clock=reactor)
    if not options.quiet:
        journal.listeners.append(_access_line)
    if not 0 <= options.grace <= limit_values.MAX_DURATION:
        print(f"mockorigin: --grace must be between 0 and {limit_values.MAX_DURATION:g} seconds", file=sys.stderr)
        return EXIT_USAGE
    if not 0 <= options.journal_size <= 1_000_000:
        print("mockorigin: --journal-size must be between 0 and 1000000", file=sys.stderr)
        return EXIT_USAGE
    admin = None if options.admin.lower() == "none" else options.admin
    if admin and not is_loopback_endpoint(admin) and not options.admin_token:
        print(f"mockorigin: the control API on {admin} would be reachable from other machines; give --admin-token, or bind it to 127.0.0.1", file=sys.stderr)
        return EXIT_USAGE
    limits = limit_values.ConnectionLimits(shutdown_grace=options.grace)
    paths = options.paths or [catalogue_path()]
    root = paths[0] if os.path.isdir(paths[0]) else os.path.dirname(paths[0]) or "."
    service = OriginService(
        reactor, ServerState(behaviours), options.listen or [], journal, limits, options.ready_file,
        admin=admin, admin_token=options.admin_token, behaviours_root=root, watch=paths if options.watch else None,
    )
    outcome = {"code": EXIT_OK}

    def start() -> None:
        service.startService()
        started = service.start_listening()

        def failed(failure) -> None:
            reason = failure.value if failure.check(ListenError) else failure.getErrorMessage()
            print(f"mockorigin: {reason}", file=sys.stderr)
            outcome["code"] = EXIT_FAILURE
            reactor.stop()

        started.addErrback(failed)

    reactor.callWhenRunning(start)
    reactor.addSystemEventTrigger("before", "shutdown", service.stopService)
    reactor.run()
    journal.close()
    if sink is not None:
        sink.close()
    return outcome["code"]


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
