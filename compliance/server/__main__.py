"""``python -m compliance.server serve ...``: the ``serve`` subcommand on its own."""

import sys

from compliance.server.command import main

sys.exit(main())
