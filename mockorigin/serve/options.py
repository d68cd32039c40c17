"""The options of ``serve``, shared by ``mockorigin serve`` and ``twistd mockorigin``, and the
service they build.

The serving layer owns its options, as ``twisted.web.tap`` does: each option is defined
once (``add_serve_options``), checked once (``check_serve_options``: unsafe or impossible
combinations are a ``UsageProblem``, exit 2), and turned into the ``OriginService`` here.
"""

from __future__ import annotations

import argparse
import gc
import os

from mockorigin import limits as limit_values
from mockorigin.format.loader import catalogue_path
from mockorigin.format.units import parse_duration, parse_size


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
