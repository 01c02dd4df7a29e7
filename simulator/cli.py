"""The ``atsim`` command line: discovers its subcommands in
:mod:`at_voice_kit.simulator.commands`."""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence

from at_voice_kit.contracts import kit_version
from at_voice_kit.simulator import commands
from at_voice_kit.simulator.untrusted_text import never_fail_to_print

EXIT_USAGE = 2
DISTRIBUTION = "at-voice-kit"
SIMULATOR_EXTRA_MODULES = frozenset(
    {"httpx", "httpcore", "uvicorn", "faker", "schemathesis", "hypothesis", "sniffio"}
)
"""Top-level modules of the ``simulator`` extra: without them ``atsim`` cannot run."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every discovered subcommand registered, sorted by name."""
    parser = argparse.ArgumentParser(
        prog="atsim",
        description="Offline Africa's Talking Voice simulator and webhook contract runner.",
    )
    parser.add_argument(
        "--version", action="version", version=f"atsim (at-voice-kit) {kit_version()}"
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
    try:
        parser = build_parser()
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] not in SIMULATOR_EXTRA_MODULES:
            raise
        if list(sys.argv[1:] if argv is None else argv) == ["--version"]:
            print(f"atsim (at-voice-kit) {kit_version()}")  # what is installed, all the same
            return 0
        print(
            f"atsim: the simulator needs the 'simulator' extra ({exc.name} is not installed): "
            f"pip install '{DISTRIBUTION}[simulator]'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        status: int = func(args)
    except BrokenPipeError:
        # The reader went away (`atsim calls | head`): nothing more to say, and no
        # traceback when Python flushes standard output at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return status


if __name__ == "__main__":
    sys.exit(main())
