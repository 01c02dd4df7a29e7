"""``atsim lint --max-bytes``: a limit past what can be read into memory is a usage error, for a
file and for standard input alike; the largest allowed limit still lints.

(The rest of ``atsim lint``'s tests sit with the grammar, in
``tests/contracts/test_actionxml_lint.py``.)
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from at_voice_kit.simulator.cli import main
from at_voice_kit.simulator.commands.lint import MAX_LIMIT_BYTES
from tests.simulator.atsim_process import atsim_command

VALID = "<Response><Say>Hello</Say></Response>"
HUGE = "99999999999999999999999"  # more than fits in an index: an OverflowError before


def _atsim(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*atsim_command(), *args], input=stdin, capture_output=True, timeout=120, check=False
    )


@pytest.mark.parametrize("limit", [HUGE, str(10**12), str(MAX_LIMIT_BYTES + 1)])
def test_a_limit_over_the_bound_is_a_usage_error(
    limit: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = tmp_path / "a.xml"
    document.write_text(VALID, encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        main(["lint", "--max-bytes", limit, str(document)])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --max-bytes: must be at most {MAX_LIMIT_BYTES}, not {limit}" in err


@pytest.mark.parametrize("source", ["file", "-"])
def test_the_real_script_refuses_a_huge_limit_for_files_and_standard_input(
    source: str, tmp_path: Path
) -> None:
    document = tmp_path / "a.xml"
    document.write_text(VALID, encoding="utf-8")
    name = "-" if source == "-" else str(document)
    completed = _atsim("lint", "--max-bytes", HUGE, name, stdin=VALID.encode())
    assert completed.returncode == 2
    stderr = completed.stderr.decode()
    assert "argument --max-bytes: must be at most" in stderr
    assert "Traceback" not in stderr


def test_the_largest_limit_lints_standard_input_and_bounds_an_endless_source() -> None:
    assert (
        _atsim("lint", "--max-bytes", str(MAX_LIMIT_BYTES), "-", stdin=VALID.encode()).returncode
        == 0
    )
    endless = _atsim("lint", "--max-bytes", str(MAX_LIMIT_BYTES), "/dev/zero")
    assert endless.returncode == 1
    assert b"[too-large]" in endless.stdout


def test_what_a_document_holds_is_printed_escaped_even_to_an_ascii_terminal() -> None:
    """An element name in Latin letters beyond ASCII crashed the output with
    UnicodeEncodeError."""
    document = "<Response><Bogus\u00e9/><Say voice='\u202e'>x</Say></Response>"
    completed = subprocess.run(
        [*atsim_command(), "lint", "-"],
        input=document.encode("utf-8"), capture_output=True, timeout=120, check=False,
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
    )  # fmt: skip
    assert completed.returncode == 1, completed.stderr
    out = completed.stdout.decode("ascii")
    assert "<stdin>:1: Response/Bogus\\xe9[1]: error: `Bogus\\xe9` is not an ActionXML" in out
    assert "not '\\u202e'" in out
    assert b"Traceback" not in completed.stderr
