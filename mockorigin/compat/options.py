"""Options both commands share, and their checks (a bad value is a usage error, exit 2)."""

from __future__ import annotations

import tempfile

from mockorigin.compat.cases import Timing
from mockorigin.compat.origin import SetupError

EXIT_OK, EXIT_BROKEN, EXIT_USAGE = 0, 1, 2


def timing_from(options, proxy_timeout: float = 3.0) -> Timing:
    if not 0.05 <= options.time_scale <= 10:
        raise SetupError("--time-scale must be between 0.05 and 10")
    if not 0.2 <= proxy_timeout <= 300:
        raise SetupError("--proxy-timeout must be between 0.2 and 300 seconds")
    return Timing(scale=options.time_scale, proxy_timeout=proxy_timeout)


def work_folder() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="mockorigin-compat-")


def list_cases(cases) -> str:
    return "\n".join(f"{c.group:<9} {c.id:<22} {c.title}" for c in cases)
