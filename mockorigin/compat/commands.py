"""The two subcommands' options, registered on ``mockorigin``'s parser by ``cli.build_parser``.

Only argparse here: ``mockorigin serve`` builds the same parser, and its start-up
time should not pay for the compatibility runs. The runs are imported when chosen.
"""

from __future__ import annotations

import argparse


def register(commands) -> None:
    proxy = commands.add_parser("proxy-check", help="serve the catalogue as the origin and send each case through your proxy; say what it did",
                                description="Send each case through your proxy to an origin this command serves; report what the proxy did.")
    add_proxy_options(proxy)
    proxy.set_defaults(compat_main=_run_proxy_check)
    clients = commands.add_parser("client-check", help="run your client command against each case; say what it did, from the journal",
                                  description="Run CMD once per case (substitutions: {url} {method} {body_file} {host} {port} {path} {timeout} {case} {expect}); report what the client did.")
    add_client_options(clients)
    clients.set_defaults(compat_main=_run_client_check)


def add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cases", metavar="LIST", help="comma-separated case ids, groups or globs; -ITEM leaves one out (default: all)")
    parser.add_argument("--list-cases", action="store_true", help="list the cases and exit")
    parser.add_argument("--time-scale", type=float, default=1.0, metavar="X", help="multiply every scripted delay and client wait by X (default 1; 0.3 runs faster, timings get tighter)")
    parser.add_argument("--origin", default="tcp:0:interface=127.0.0.1", metavar="ENDPOINT", help="where the origin listens (default: a free loopback port)")
    parser.add_argument("--origin-ready", metavar="FILE", help='write {"url", "host", "port", "admin", "pid"} here once the origin listens')
    parser.add_argument("--json", metavar="FILE", help="one object per case: both ends' raw observations, with times, and the verdicts")
    parser.add_argument("--junit", metavar="FILE", help="JUnit XML: a case fails when an RFC requirement did not hold")
    parser.add_argument("--markdown", metavar="FILE", help="the table as Markdown")
    parser.add_argument("--no-colour", "--no-color", dest="no_colour", action="store_true", help="no colour even on a terminal")


def add_proxy_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--via", metavar="URL", help="the proxy under test, which forwards to the origin (e.g. http://127.0.0.1:8081/)")
    parser.add_argument("--proxy-timeout", type=float, default=3.0, metavar="SECONDS", help="the proxy's upstream read timeout: timer probes are spaced around it, stalls wait 1.5x it (default 3)")
    parser.add_argument("--wait-for-proxy", type=float, default=0.0, metavar="SECONDS", help="wait up to this long for the proxy to accept connections (start it after reading --origin-ready)")
    add_common_options(parser)


def add_client_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS", help="kill the command after this long (default: the longer of the case's {timeout} and its script, plus 3 s)")
    parser.add_argument("--ws", action="store_true", help="the command is a WebSocket client: run the WebSocket cases ({url} is ws://...)")
    parser.add_argument("--name", metavar="NAME", help="what to call the client in the reports (default: the command)")
    add_common_options(parser)
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD ...", help="the client command, after --")


def _run_proxy_check(options) -> int:
    from mockorigin.compat import proxycheck

    return proxycheck.main(options)


def _run_client_check(options) -> int:
    from mockorigin.compat import clientcheck

    return clientcheck.main(options)
