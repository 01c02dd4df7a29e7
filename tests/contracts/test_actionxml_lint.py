"""``atsim lint``: output lines, exit statuses, standard input, in-process and as the real script.

(The command lives in ``simulator/commands/lint.py``; its tests sit with the grammar they
exercise.)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from at_voice_kit.contracts.actionxml import parse
from at_voice_kit.simulator.cli import main

CORPUS = Path(__file__).parent / "actionxml_corpus"
ATSIM = Path(sys.executable).parent / "atsim"

VALID = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hello</Say></Response>'
INVALID = """<Response>
  <Say voice="robot">Hello</Say>
  <Play/>
</Response>
"""
ALIAS = "<Response><GetDigits callBackUrl='https://a.example.com/x'/></Response>"


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def _atsim(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[str]:
    assert ATSIM.exists(), "the atsim console script is not installed"
    completed = subprocess.run(
        [str(ATSIM), *args], input=stdin, capture_output=True, timeout=120, check=False
    )
    return subprocess.CompletedProcess(
        completed.args,
        completed.returncode,
        completed.stdout.decode("utf-8"),
        completed.stderr.decode("utf-8"),
    )


def test_valid_files_exit_0_and_print_nothing_on_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = _write(tmp_path, "a.xml", VALID), _write(tmp_path, "b.xml", VALID)
    assert main(["lint", str(first), str(second)]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert "2 of 2 documents valid" in err


def test_problems_print_one_a_line_with_file_line_path_message_and_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _write(tmp_path, "bad.xml", INVALID)
    assert main(["lint", str(bad)]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        f"{bad}:2: Response/Say[1]: warning: `Say` attribute `voice` must be `man`, `woman` or a "
        "voice name such as `en-US-Standard-C`, not 'robot' [bad-value]",
        f"{bad}:3: Response/Play[1]: error: `Play` requires the attribute `url` "
        "[missing-required-attribute]",
    ]
    assert "1 error and 1 warning in 1 document; 1 of 1 fail" in err


def test_any_invalid_document_fails_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [_write(tmp_path, "ok.xml", VALID), _write(tmp_path, "bad.xml", INVALID)]
    assert main(["lint", *map(str, files)]) == 1
    assert all(line.startswith(f"{files[1]}:") for line in capsys.readouterr().out.splitlines())


def test_notes_are_printed_but_do_not_fail_and_can_be_silenced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    alias = _write(tmp_path, "alias.xml", ALIAS)
    assert main(["lint", str(alias)]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(
        f"{alias}:1: Response/GetDigits[1]: note: `GetDigits` attribute `callBackUrl`"
    )  # a note: printed, never failing, even with --strict
    assert main(["lint", "--strict", str(alias)]) == 0
    capsys.readouterr()
    assert line.endswith("`callbackUrl` is canonical [alias-spelling]")
    assert main(["lint", "--no-notes", str(alias)]) == 0
    assert capsys.readouterr().out == ""


def test_ssml_in_say_passes_lint_with_a_note_even_when_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ssml = _write(tmp_path, "ssml.xml", (CORPUS / "valid" / "say-ssml.xml").read_text("utf-8"))
    for strict in ([], ["--strict"]):
        assert main(["lint", *strict, str(ssml)]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert len(lines) == 2 and all(line.endswith("[ssml-in-say]") for line in lines)
        assert "note: `Say` holds SSML markup (<speak>, <say-as>, <break>)" in lines[0]


def test_document_problems_have_no_line_when_none_applies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = _write(tmp_path, "big.xml", VALID)
    assert main(["lint", "--max-bytes", "10", str(big)]) == 1
    assert capsys.readouterr().out == (
        f"{big}: (document): error: the document is over the size limit of 10 bytes [too-large]\n"
    )


def test_unreadable_files_are_usage_errors_and_the_rest_is_still_linted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _write(tmp_path, "bad.xml", INVALID)
    missing = tmp_path / "missing.xml"
    assert main(["lint", str(missing), str(bad), str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert f"atsim lint: cannot read {missing}: No such file or directory" in err
    assert f"atsim lint: cannot read {tmp_path}: Is a directory" in err
    assert len(out.splitlines()) == 2


@pytest.mark.parametrize(
    "argv",
    [["lint"], ["lint", "--max-bytes", "0", "x.xml"], ["lint", "--max-bytes", "many", "x.xml"]],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "usage: atsim lint" in capsys.readouterr().err


def test_real_script_lints_files_and_standard_input(tmp_path: Path) -> None:
    bad = _write(tmp_path, "bad.xml", INVALID)
    completed = _atsim("lint", str(bad), "-", stdin=b"<Response><Say>x</Say><Reject/></Response>")
    assert completed.returncode == 1  # bad.xml has an error
    lines = completed.stdout.splitlines()
    assert len(lines) == 3
    assert lines[2] == (
        "<stdin>:1: Response/Reject[1]: warning: `Reject` is not the only action in the "
        "`Response` (2 elements): AT documents it alone, to refuse a call; here it most "
        "plausibly ends the call where it stands [reject-not-alone]"
    )
    assert _atsim("lint", "-", stdin=VALID.encode()).returncode == 0


def test_real_script_exit_2_for_unreadable_and_usage(tmp_path: Path) -> None:
    completed = _atsim("lint", str(tmp_path / "nope.xml"))
    assert completed.returncode == 2 and "cannot read" in completed.stderr
    assert _atsim("lint").returncode == 2


def test_real_script_reads_an_endless_source_only_up_to_the_limit() -> None:
    completed = _atsim("lint", "--max-bytes", "4096", "/dev/zero")
    assert completed.returncode == 1
    assert "[too-large]" in completed.stdout


def test_real_script_on_the_whole_corpus() -> None:
    valid = sorted(str(p) for p in (CORPUS / "valid").glob("*.xml"))
    invalid = sorted(str(p) for p in (CORPUS / "invalid").glob("*.xml"))
    assert _atsim("lint", "--no-notes", *valid).returncode == 0
    completed = _atsim("lint", "--strict", *invalid)
    assert completed.returncode == 1
    linted = {line.split(":", 1)[0] for line in completed.stdout.splitlines()}
    assert linted == set(invalid)


AT_EXAMPLE_ANSWER = (
    '<Response> <Say voice="man">Your balance is 1234 Shillings</Say> <Reject/> </Response>'
)
"""The shape of what AT's own example app (africastalking-python, example/webApp.py) answers
after its menu: a Say, then Reject, spaces between the elements, no XML declaration."""


def test_warnings_are_printed_and_fail_only_with_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    example = _write(tmp_path, "balance.xml", AT_EXAMPLE_ANSWER)
    assert main(["lint", str(example)]) == 0
    out, err = capsys.readouterr()
    (line,) = out.splitlines()
    assert line.startswith(f"{example}:1: Response/Reject[1]: warning: `Reject` is not the only")
    assert "1 warning in 1 document; 0 of 1 fail" in err
    assert main(["lint", "--strict", str(example)]) == 1
    assert "1 warning in 1 document; 1 of 1 fail" in capsys.readouterr().err


def test_an_error_fails_with_or_without_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hangup = _write(tmp_path, "hangup.xml", "<Response><Say>Bye</Say><Hangup/></Response>")
    for strict in ([], ["--strict"]):
        assert main(["lint", *strict, str(hangup)]) == 1
        out = capsys.readouterr().out
        assert f"{hangup}:1: Response/Hangup[1]: error: " in out
        assert out.rstrip().endswith("[unknown-element]")


@pytest.mark.parametrize("path", sorted((CORPUS / "invalid").glob("*.xml")), ids=lambda p: p.stem)
def test_lint_fails_a_corpus_document_exactly_when_it_has_an_error(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = parse(path.read_bytes())
    assert main(["lint", "--no-notes", str(path)]) == (1 if result.errors else 0)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(": ")[2] for line in lines] == [
        str(problem.severity) for problem in result.problems
    ]
