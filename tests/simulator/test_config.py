"""Configuration: ``--speed``, the YAML config file (errors name the key), flags over it."""

from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path

import pytest

from at_voice_kit.simulator.backend.accounts import Account
from at_voice_kit.simulator.backend.callees import CalleeAnswer, CalleeScript
from at_voice_kit.simulator.backend.destinations import Tariff
from at_voice_kit.simulator.backend.platform_config import (
    DEFAULT_API_KEY,
    DEFAULT_AT_NUMBER,
    DEFAULT_USERNAME,
    ConfigError,
    SimulatorConfig,
    Speed,
    SpeedMode,
)
from at_voice_kit.simulator.backend.voice import VoiceBackend
from at_voice_kit.simulator.commands.serve import banner, build_config, register
from at_voice_kit.simulator.configuration.sources import (
    config_from_environment,
    load_config_file,
    with_options,
)
from at_voice_kit.simulator.engine.events import EventFaults

FULL_CONFIG = """\
host: 127.0.0.1
port: 0
seed: 99
speed: fast
accounts:
  - {username: acme, apiKey: acme-key, balance: "50.00", currency: UGX}
  - {username: beta, apiKey: beta-key}
numbers:
  - phoneNumber: "+256772100200"
    callbackUrl: http://127.0.0.1:8000/voice/callback
    eventsUrl: http://127.0.0.1:8000/voice/events
  - {phoneNumber: "+254711082090", username: beta}
callees:
  - {phoneNumber: "+254711082001", answer: busy}
  - {phoneNumber: "+254711082002", answer: answered, digits: ["1", "2#"], hangupAfter: 30}
defaultCallee: {answer: no-answer}
tariffs: {KE: 1.5, UG: "4.00"}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "atsim.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "speed"),
    [
        ("real", Speed()),
        ("fast", Speed(SpeedMode.FAST)),
        (" FAST ", Speed(SpeedMode.FAST)),
        ("10", Speed(SpeedMode.SCALED, 10.0)),
        ("0.5", Speed(SpeedMode.SCALED, 0.5)),
        ("1", Speed()),
    ],
)
def test_speed_values(text: str, speed: Speed) -> None:
    assert Speed.parse(text) == speed
    assert Speed.parse(str(speed)) == speed


@pytest.mark.parametrize("text", ["slow", "0", "-2", "inf", "nan", ""])
def test_bad_speeds_say_what_is_allowed(text: str) -> None:
    with pytest.raises(ValueError, match="must be 'real', 'fast' or a positive number"):
        Speed.parse(text)


def test_a_full_config_file_builds_the_world(tmp_path: Path) -> None:
    config = load_config_file(write(tmp_path, FULL_CONFIG)).resolved()
    assert (config.host, config.port, config.seed, config.speed) == (
        "127.0.0.1",
        0,
        99,
        Speed(SpeedMode.FAST),
    )
    assert config.accounts == (
        Account("acme", "acme-key", Decimal("50.00"), "UGX"),
        Account("beta", "beta-key"),
    )
    first, second = config.numbers
    assert (first.phone_number, first.username, first.events_url) == (
        "+256772100200",
        "acme",  # no username: the first account
        "http://127.0.0.1:8000/voice/events",
    )
    assert (second.username, second.callback_url) == ("beta", None)
    assert config.callees == (
        ("+254711082001", CalleeScript(CalleeAnswer.BUSY)),
        ("+254711082002", CalleeScript(CalleeAnswer.ANSWERED, ("1", "2#"), 30.0)),
    )
    assert config.default_callee == CalleeScript(CalleeAnswer.NO_ANSWER)
    assert config.tariffs == (Tariff("KE", Decimal("1.5")), Tariff("UG", Decimal("4.00")))
    backend = VoiceBackend(config)
    assert backend.callees.script_for("+254711082099").answer is CalleeAnswer.NO_ANSWER


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour: blue\n", "colour: is not a known field"),
        ("port: 70000\n", "port: must be an integer from 0 to 65535"),
        ("speed: slow\n", "speed: must be 'real', 'fast'"),
        ("accounts:\n  - {username: a}\n", "accounts[0].apiKey: is required"),
        ("accounts: {username: a}\n", "accounts: must be a list"),
        (
            "numbers:\n  - {phoneNumber: +254711082000}\n",
            "numbers[0].phoneNumber: must be a string such as '+254711082000' (quote it in YAML)",
        ),
        (
            "numbers:\n  - {phoneNumber: '+254711082000', callbackUrl: localhost:8000}\n",
            "numbers[0].callbackUrl: must be an absolute http(s) URL",
        ),
        (
            "callees:\n  - {phoneNumber: '+254711082001', answer: busy, digits: [x]}\n",
            "callees[0].digits[0]: must be a string of at most 32 of 0-9",
        ),
        (
            "accounts:\n  - {username: a, apiKey: k}\n  - {username: a, apiKey: j}\n",
            "accounts[1]: 'a' is given twice",
        ),
        ("tariffs: {Kenya: 2}\n", "tariffs.Kenya: must be an ISO 3166 alpha-2 country code"),
        ("adminToken: short\n", "adminToken: must be 16 to 256 printable ASCII characters"),
        ("- just\n- a list\n", "must be a YAML mapping of settings (host, port"),
        ("key: [unclosed\n", "not valid YAML"),
    ],
)
def test_config_file_errors_name_the_file_key_and_rule(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config_file(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_a_number_owned_by_an_unknown_account_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "numbers:\n  - {phoneNumber: '+254711082000', username: ghost}\n")
    with pytest.raises(ConfigError, match="no account is named 'ghost'"):
        load_config_file(path).resolved()


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_config_file(tmp_path / "nope.yaml")


def test_a_config_file_nested_too_deeply_is_a_config_error(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("[" * 50_000)  # was a RecursionError traceback instead of exit status 2
    with pytest.raises(ConfigError, match=r"deep\.yaml: not valid YAML: nested too deeply"):
        load_config_file(deep)


def test_zero_config_has_the_documented_account_and_number() -> None:
    config = SimulatorConfig().resolved()
    assert config.accounts == (Account(DEFAULT_USERNAME, DEFAULT_API_KEY),)
    assert [(n.phone_number, n.username) for n in config.numbers] == [
        (DEFAULT_AT_NUMBER, DEFAULT_USERNAME)
    ]
    assert (config.host, config.port, config.speed) == ("127.0.0.1", 5001, Speed())


def parse_serve(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    return parser.parse_args(["serve", *argv])


def test_flags_override_the_file_and_set_the_default_number(tmp_path: Path) -> None:
    path = write(tmp_path, FULL_CONFIG)
    args = parse_serve(
        "--config",
        str(path),
        "--port",
        "6000",
        "--seed",
        "3",
        "--speed",
        "2.5",
        "--account",
        "acme:new-key",
        "--account",
        "gamma:gamma-key",
        "--callback-url",
        "http://127.0.0.1:9000/cb",
    )
    config = build_config(args)
    assert (config.port, config.seed, config.speed) == (6000, 3, Speed(SpeedMode.SCALED, 2.5))
    accounts = {account.username: account for account in config.accounts}
    assert accounts["acme"] == Account("acme", "new-key", Decimal("50.00"), "UGX")
    assert accounts["gamma"] == Account("gamma", "gamma-key")
    assert config.numbers[0].callback_url == "http://127.0.0.1:9000/cb"
    assert config.numbers[0].events_url == "http://127.0.0.1:8000/voice/events"
    assert config.admin_token is None


def test_zero_config_flags_make_the_default_number_with_urls() -> None:
    config = build_config(parse_serve("--events-url", "http://127.0.0.1:9000/ev"))
    assert [(n.phone_number, n.events_url) for n in config.numbers] == [
        (DEFAULT_AT_NUMBER, "http://127.0.0.1:9000/ev")
    ]


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::"])
def test_beyond_loopback_the_admin_api_gets_a_token(host: str) -> None:
    config = build_config(parse_serve("--host", host))
    assert config.admin_token is not None and len(config.admin_token) >= 16
    chosen = build_config(parse_serve("--host", host, "--admin-token", "x" * 20))
    assert chosen.admin_token == "x" * 20


def test_the_banner_prints_an_admin_token_only_when_it_was_made_up() -> None:
    config = build_config(parse_serve("--host", "0.0.0.0"))
    assert config.admin_token is not None
    made_up = banner(config, "http://0.0.0.0:5001", show_admin_token=True)
    assert f"(Authorization: Bearer {config.admin_token})" in made_up
    given = banner(config, "http://0.0.0.0:5001")
    assert config.admin_token not in given
    assert "(Authorization: Bearer <the admin token you set>)" in given


@pytest.mark.parametrize(
    "argv",
    [
        ["--account", "nokey"],
        ["--account", "bad user:key"],
        ["--port", "99999"],
        ["--callback-url", "not-a-url"],
        ["--speed", "0"],
    ],
)
def test_bad_flags_are_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        parse_serve(*argv)
    assert caught.value.code == 2
    assert "error: argument" in capsys.readouterr().err


def test_environment_configuration(tmp_path: Path) -> None:
    path = write(tmp_path, FULL_CONFIG)
    config = config_from_environment(
        {"ATSIM_CONFIG": str(path), "ATSIM_SEED": "5", "ATSIM_SPEED": "fast"}
    )
    assert (config.seed, config.speed.mode, config.accounts[0].username) == (
        5,
        SpeedMode.FAST,
        "acme",
    )
    with pytest.raises(ConfigError, match="ATSIM_SEED"):
        config_from_environment({"ATSIM_SEED": "x"})


def test_options_keep_an_existing_accounts_balance() -> None:
    base = SimulatorConfig(accounts=(Account("acme", "old", Decimal("7")),))
    (account,) = with_options(base, accounts=[Account("acme", "new")]).accounts
    assert account == Account("acme", "new", Decimal("7"))


CALL_SETTINGS = """\
webhookTimeout: 2.5
eventFaults: {delayProbability: 0.25, delaySeconds: [2, 4], duplicateProbability: 0.5}
publicUrl: http://sim.example:5001
"""


def test_call_settings_come_from_the_file_and_flags_override_them(tmp_path: Path) -> None:
    path = write(tmp_path, CALL_SETTINGS)
    config = load_config_file(path)
    assert (config.webhook_timeout, config.public_url) == (2.5, "http://sim.example:5001")
    assert config.event_faults == EventFaults(
        delay_probability=0.25, delay_seconds=(2.0, 4.0), duplicate_probability=0.5
    )
    flagged = build_config(
        parse_serve("--config", str(path), "--webhook-timeout", "4", "--event-reorder", "0.1")
    )
    assert flagged.webhook_timeout == 4.0
    assert flagged.event_faults == EventFaults(
        delay_probability=0.25,
        delay_seconds=(2.0, 4.0),
        duplicate_probability=0.5,
        reorder_probability=0.1,
    )
    assert SimulatorConfig().webhook_timeout == 10.0  # AT's
    assert not SimulatorConfig().event_faults.active
    backend = VoiceBackend(flagged)
    assert backend.event_faults == flagged.event_faults


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("webhookTimeout: 0\n", "webhookTimeout: must be a number of seconds greater than 0"),
        ("webhookTimeout: fast\n", "webhookTimeout: must be a number of seconds"),
        ("eventFaults: {duplicateProbability: 2}\n", "eventFaults.duplicateProbability: must"),
        ("eventFaults: {delaySeconds: [1]}\n", "eventFaults.delaySeconds: must be two numbers"),
        ("eventFaults: {dropProbability: 1}\n", "eventFaults.dropProbability: is not a known"),
        ("publicUrl: ftp://x\n", "publicUrl: must be an absolute http(s) URL"),
    ],
)
def test_bad_call_settings_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config_file(write(tmp_path, text))
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "argv", [["--webhook-timeout", "0"], ["--event-delay", "1.5"], ["--public-url", "x"]]
)
def test_bad_call_flags_are_usage_errors(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        parse_serve(*argv)
    assert "error: argument" in capsys.readouterr().err


def test_call_settings_from_the_environment() -> None:
    config = config_from_environment(
        {"ATSIM_WEBHOOK_TIMEOUT": "3", "ATSIM_PUBLIC_URL": "http://127.0.0.1:9"}
    )
    assert (config.webhook_timeout, config.public_url) == (3.0, "http://127.0.0.1:9")
    with pytest.raises(ConfigError, match="ATSIM_WEBHOOK_TIMEOUT"):
        config_from_environment({"ATSIM_WEBHOOK_TIMEOUT": "soon"})


def test_callees_in_the_config_file_take_an_exact_hangup_cause(tmp_path: Path) -> None:
    text = (
        "callees:\n"
        "  - {phoneNumber: '+254711082001', answer: busy, hangupCause: USER_BUSY}\n"
        "defaultCallee: {answer: unreachable, hangupCause: UNALLOCATED_NUMBER}\n"
    )
    config = load_config_file(write(tmp_path, text))
    ((_, busy),) = config.callees
    assert busy.hangup_cause is not None and busy.hangup_cause.value == "USER_BUSY"
    assert config.default_callee is not None and config.default_callee.hangup_cause is not None
    assert config.default_callee.hangup_cause.value == "UNALLOCATED_NUMBER"
    with pytest.raises(ConfigError) as caught:
        load_config_file(
            write(
                tmp_path, "callees:\n  - {phoneNumber: '+254711082001', hangupCause: USER_BUSY}\n"
            )
        )
    assert "callees[0].hangupCause: USER_BUSY goes with answer 'busy', not 'answered'" in str(
        caught.value
    )


def test_strict_comes_from_the_file_the_flag_and_the_environment(tmp_path: Path) -> None:
    assert not SimulatorConfig().strict
    assert load_config_file(write(tmp_path, "strict: true\n")).strict
    with pytest.raises(ConfigError, match="strict: must be true or false"):
        load_config_file(write(tmp_path, "strict: yes please\n"))
    assert build_config(parse_serve("--strict")).strict
    assert not build_config(parse_serve()).strict
    assert config_from_environment({"ATSIM_STRICT": "1"}).strict
    assert config_from_environment({"ATSIM_STRICT": "TRUE"}).strict
    assert not config_from_environment({"ATSIM_STRICT": "0"}).strict
    assert not config_from_environment({}).strict
    with pytest.raises(ConfigError, match="ATSIM_STRICT must be"):
        config_from_environment({"ATSIM_STRICT": "maybe"})
    on = banner(build_config(parse_serve("--strict")), "http://127.0.0.1:5001")
    assert "ActionXML: strict" in on


def test_atsim_serve_reads_atsim_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATSIM_STRICT", "yes")
    assert build_config(parse_serve()).strict
    monkeypatch.setenv("ATSIM_STRICT", "nope")
    with pytest.raises(ConfigError, match="ATSIM_STRICT"):
        build_config(parse_serve())


def test_the_final_requests_hangup_cause_for_answered_calls_is_a_config_key(
    tmp_path: Path,
) -> None:
    assert not SimulatorConfig().hangup_cause_when_answered
    config = load_config_file(write(tmp_path, "hangupCauseWhenAnswered: true\n"))
    assert config.hangup_cause_when_answered
    with pytest.raises(ConfigError, match="hangupCauseWhenAnswered: must be true or false"):
        load_config_file(write(tmp_path, "hangupCauseWhenAnswered: sometimes\n"))
