"""The ``atsim`` command line: discovers its subcommands in :mod:`simulator.commands`."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from simulator import commands
from simulator.untrusted_text import never_fail_to_print

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every discovered subcommand registered, sorted by name."""
    parser = argparse.ArgumentParser(
        prog="atsim",
        description="Offline Africa's Talking Voice simulator and webhook contract runner.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``atsim`` console script; returns the process exit status."""
    never_fail_to_print()  # an app's text must never cost the report (LANG=C, an ASCII pipe)
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    status: int = func(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
