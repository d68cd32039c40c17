"""``python -m mockorigin``: the same program as the ``mockorigin`` command."""

import sys

from mockorigin.cli import main

sys.exit(main())
