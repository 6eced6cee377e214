"""``python -m compliance.audit ARCHIVE… --out DIR``: the audit command on its own."""

from __future__ import annotations

import argparse
import sys

from compliance.audit.command import EPILOG, add_arguments, cmd_audit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m compliance.audit",
                                     description="Audit message archives (see `compliance audit --help`).",
                                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return cmd_audit(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
