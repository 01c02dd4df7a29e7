"""``at-voice-service``: the start-up checks and flow checks, without starting the service."""

from __future__ import annotations

from pathlib import Path

import pytest

from at_voice_kit.service.cli import main

SETTINGS = {
    "AT_USERNAME": "sandbox",
    "AT_API_KEY": "k",
    "AT_VOICE_NUMBER": "+254711082000",
    "AT_VOICE_URL": "http://127.0.0.1:9",
}


def test_check_passes_and_migrates_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in {**SETTINGS, "DATABASE_URL": f"sqlite:///{tmp_path / 'v.db'}"}.items():
        monkeypatch.setenv(name, value)
    assert main(["check"]) == 0
    assert capsys.readouterr().out == "voice service settings: ok, database ready\n"
    assert (tmp_path / "v.db").is_file()


def test_check_lists_every_problem_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in (*SETTINGS, "DATABASE_URL", "VOICE_FLOW_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AT_USERNAME", "sandbox")
    monkeypatch.setenv("VOICE_FLOW_FILE", "menus")
    assert main(["check", "--no-database"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "voice service cannot start: 3 problems",
        "  AT_API_KEY: is required but not set",
        "  AT_VOICE_NUMBER: is required but not set",
        "  VOICE_FLOW_FILE: menus: cannot read the flow file: No such file or directory "
        "(shipped flows: menu, welcome; or give a path)",
    ]


def test_check_judges_the_gunicorn_settings_as_the_service_start_does(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A check that passes means gunicorn starts: it said ok to settings gunicorn refused."""
    for name, value in SETTINGS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("VOICE_FLOW_FILE", raising=False)
    monkeypatch.setenv("VOICE_BIND", "127.0.0.1:99999")
    monkeypatch.setenv("VOICE_WORKERS", "abc")
    monkeypatch.setenv("VOICE_LOG_LEVEL", "loud")
    assert main(["check", "--no-database"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "voice service cannot start: 3 problems",
        "  VOICE_BIND: must have a port number from 0 to 65535, got '127.0.0.1:99999' "
        "(such as 127.0.0.1:5000)",
        "  VOICE_WORKERS: must be a whole number greater than zero, got 'abc'",
        "  VOICE_LOG_LEVEL: must be one of debug, info, warning, error, critical, got 'loud'",
    ]


@pytest.mark.parametrize("value", ["0", "99999999999"])
def test_check_names_a_setting_read_by_gunicorn_and_the_app_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    """VOICE_THREADS is read by both: ``0`` was two problems of one variable, counted twice;
    a number of threads no machine could start was taken."""
    for name, value_set in SETTINGS.items():
        monkeypatch.setenv(name, value_set)
    monkeypatch.delenv("VOICE_FLOW_FILE", raising=False)
    monkeypatch.setenv("VOICE_THREADS", value)
    assert main(["check", "--no-database"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "voice service cannot start: 1 problem",
        f"  VOICE_THREADS: must be a whole number greater than zero and at most 256, got {value!r}",
    ]


def test_check_flow_judges_each_flow_as_the_service_would(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "start: a\nsteps:\n  a: {actions: [{say: Hi}], on_digits: {'1': nowhere}}\n",
        encoding="utf-8",
    )
    assert main(["check-flow", "menu", str(broken)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "menu: ok"
    assert out[1].startswith(str(broken)) and "nowhere" in out[1]
    assert main(["check-flow", "welcome"]) == 0


def test_flows_lists_the_shipped_flows(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["flows"]) == 0
    assert capsys.readouterr().out.split() == ["menu", "welcome"]
