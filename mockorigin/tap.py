"""``twistd -n mockorigin ...`` and ``twist mockorigin ...``: the same service as ``mockorigin serve``.

``Options`` hands the arguments to the ``serve`` parser, so every option means the
same everywhere; twistd itself does the daemonising, pidfile and logging, so
``--daemon``, ``--pidfile`` and ``--log-file`` belong to twistd here.
"""

from __future__ import annotations

import argparse

from twisted.python import usage

from mockorigin.serve.options import UsageProblem, add_serve_options, check_serve_options
from mockorigin.format.loader import LoadError, load_paths


class Options(usage.Options):
    synopsis = "[serve options] [PATH ...]"

    def parseOptions(self, options=None):
        parser = argparse.ArgumentParser(prog="twistd mockorigin", add_help=True)
        add_serve_options(parser)
        try:
            self.namespace = parser.parse_args(options or [])
        except SystemExit as exit_:
            if exit_.code == 0:
                raise
            raise usage.UsageError("see `twistd mockorigin --help`") from None
        if self.namespace.daemon or self.namespace.pidfile or self.namespace.log_file:
            raise usage.UsageError("--daemon, --pidfile and --log-file are twistd's own options here (put them before `mockorigin`)")
        try:
            check_serve_options(self.namespace)
        except UsageProblem as problem:
            raise usage.UsageError(str(problem)) from None

    def __getitem__(self, key):
        return getattr(self.namespace, key)


def makeService(options: Options):
    from twisted.internet import reactor

    from mockorigin.serve.options import build_service, settle_heap
    from mockorigin.format.loader import catalogue_path

    namespace = options.namespace
    try:
        behaviours = load_paths(namespace.paths or [catalogue_path()])
    except LoadError as error:
        raise usage.UsageError("\n" + str(error)) from None
    service = build_service(namespace, behaviours, reactor)
    reactor.callWhenRunning(settle_heap)
    return service
