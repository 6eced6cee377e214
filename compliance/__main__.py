"""`python -m compliance` runs the command line."""

import sys

from compliance.cli import main

sys.exit(main())
