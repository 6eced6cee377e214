"""Command line: takes argv, gives exit codes and printed reports (a thin layer over `compliance.engine`).

The argument parser and the built-in commands (commands), demo, replay, and the decision printer.
"""

from compliance.cli.commands import main

__all__ = ["main"]
