"""``atsim lint FILE...``: judge ActionXML documents as AT would, one problem a line.

What a developer runs on their own XML before AT (or ``atsim verify``) does. Output lines
are ``file:line: path: SEVERITY: message [rule]`` (``file: path: ...`` when no line applies),
on standard output, where the severity is the verdict model's
(:mod:`at_voice_kit.contracts.actionxml.problems`): an ``error`` breaks the app on AT, a
``warning`` works on AT but relies on something fragile, a ``note`` (AT's alternative
spellings) is only worth knowing. Exit status: 1 when any document has an error (or, with
``--strict``, a warning), else 0; 2 on a usage error (such as a file that cannot be read).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, BinaryIO

from at_voice_kit.contracts.actionxml import DEFAULT_MAX_BYTES, Problem, Severity, parse
from at_voice_kit.contracts.actionxml.parse import too_large
from at_voice_kit.simulator.demo.report import counted
from at_voice_kit.simulator.untrusted_text import printable

EXIT_VALID = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
MAX_LIMIT_BYTES = 64 * 1024 * 1024
"""The largest ``--max-bytes`` (64 MiB, a thousand times the default): a document is read
whole into memory and parsed, and AT's answers are kilobytes (the simulator and ``atsim
verify`` read at most a megabyte of one)."""
READ_CHUNK_BYTES = 64 * 1024
STDIN_NAME = "-"
STDIN_LABEL = "<stdin>"


def register(subparsers: Any) -> None:
    """Add the ``lint`` subcommand to ``atsim``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "lint",
        help="validate ActionXML documents against AT's grammar",
        description=(
            "Judge ActionXML documents as AT would and print every problem, one a line, as "
            "file:line: path: SEVERITY: message [rule]. An error breaks the app on AT; a "
            "warning works on AT but relies on something fragile; a note is worth knowing. "
            "Exit 1 if any document has an error (or a warning, with --strict)."
        ),
    )
    parser.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help=f"an ActionXML document; {STDIN_NAME} reads standard input",
    )
    parser.add_argument(
        "--max-bytes",
        type=_byte_limit,
        default=DEFAULT_MAX_BYTES,
        help=(
            f"refuse documents larger than this (default {DEFAULT_MAX_BYTES}, "
            f"at most {MAX_LIMIT_BYTES})"
        ),
    )
    parser.add_argument(
        "--no-notes",
        action="store_true",
        help="do not print notes (AT's alternative attribute spellings, SSML in Say)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail on warnings too (by default only errors fail; warnings are printed)",
    )
    parser.set_defaults(func=run)


def _byte_limit(text: str) -> int:
    """An argparse type: a size limit from 1 to :data:`MAX_LIMIT_BYTES`."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {value}")
    if value > MAX_LIMIT_BYTES:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_LIMIT_BYTES}, not {value}")
    return value


def run(args: argparse.Namespace) -> int:
    """Lint every file named in ``args``; the exit status of the run."""
    max_bytes: int = args.max_bytes
    tally = _Tally()
    for name in args.files:
        label = STDIN_LABEL if name == STDIN_NAME else name
        try:
            document = _read(name, max_bytes)
        except OSError as error:
            reason = error.strerror or str(error)
            print(f"atsim lint: cannot read {label}: {reason}", file=sys.stderr)
            tally.unreadable += 1
            continue
        problems, notes = _judge(document, max_bytes)
        for problem in problems:
            print(format_problem(label, problem))
        if not args.no_notes:
            for note in notes:
                print(format_problem(label, note))
        tally.add(problems, strict=args.strict)
    print(f"atsim lint: {tally.summary(len(args.files))}", file=sys.stderr)
    if tally.unreadable:
        return EXIT_USAGE
    return EXIT_PROBLEMS if tally.failing else EXIT_VALID


class _Tally:
    """What the documents of one run amount to."""

    def __init__(self) -> None:
        self.unreadable = 0
        self.errors = 0
        self.warnings = 0
        self.failing = 0
        """Documents that fail the run: with an error, or a warning under ``--strict``."""

    def add(self, problems: tuple[Problem, ...], *, strict: bool) -> None:
        errors = sum(p.severity is Severity.ERROR for p in problems)
        warnings = sum(p.severity is Severity.WARNING for p in problems)
        self.errors += errors
        self.warnings += warnings
        self.failing += bool(errors or (strict and warnings))

    def summary(self, documents: int) -> str:
        read = documents - self.unreadable
        counts = [_count(self.errors, "error"), _count(self.warnings, "warning")]
        found = " and ".join(count for count in counts if count)
        if found:
            text = f"{found} in {counted(read, 'document')}; {self.failing} of {read} fail"
        else:
            text = f"{read} of {counted(read, 'document')} valid"
        if self.unreadable:
            text += f"; {self.unreadable} could not be read"
        return text


def _count(number: int, noun: str) -> str:
    return counted(number, noun) if number else ""


def _read(name: str, max_bytes: int) -> bytes:
    # One byte past the limit is enough to know a document is too large, and bounds what
    # is read from an endless source (a pipe, /dev/zero).
    if name == STDIN_NAME:
        return _read_bounded(sys.stdin.buffer, max_bytes)
    with open(name, "rb") as source:
        return _read_bounded(source, max_bytes)


def _read_bounded(source: BinaryIO, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    remaining = max_bytes + 1
    while remaining > 0:
        # In chunks: a read of the whole limit at once allocates all of it up front, however
        # short the document.
        chunk = source.read(min(remaining, READ_CHUNK_BYTES))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _judge(document: bytes, max_bytes: int) -> tuple[tuple[Problem, ...], tuple[Problem, ...]]:
    if len(document) > max_bytes:
        return (too_large(max_bytes),), ()
    result = parse(document, max_bytes=max_bytes)
    return result.problems, result.notes


def format_problem(label: str, problem: Problem) -> str:
    """``file:line: path: SEVERITY: message [rule]``, the line left out when unknown; what the
    document put in it (element names, values) made printable, one line whatever it holds."""
    where = label if problem.line is None else f"{label}:{problem.line}"
    return printable(
        f"{where}: {problem.path}: {problem.severity}: {problem.message} [{problem.rule}]"
    )
