"""Settings are checked at start-up, with messages naming the variable."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from at_voice_kit.service.app import create_app
from at_voice_kit.service.config import Config, ConfigError

BASE_ENV = {
    "AT_USERNAME": "sandbox",
    "AT_API_KEY": "key",
    "AT_VOICE_NUMBER": "+254711082000",
}


def test_reads_every_setting_from_the_environment() -> None:
    config = Config.from_env(
        {
            **BASE_ENV,
            "AT_USERNAME": "acme",
            "AT_VOICE_NUMBER": "254711082000",
            "AT_VOICE_URL": "http://127.0.0.1:5001/",
            "DATABASE_URL": "postgresql+psycopg://u@127.0.0.1/voice",
            "VOICE_API_TOKEN": "x" * 20,
            "VOICE_WEBHOOK_SECRET": "s3cret-0123456789",
            "AT_TIMEOUT_SECONDS": "4.5",
            "VOICE_MAX_BODY_BYTES": "1000",
            "VOICE_STRICT_FIELDS": "true",
            "DATABASE_POOL_SIZE": "3",
            "DATABASE_STATEMENT_TIMEOUT_MS": "750",
            "VOICE_FLOW_FILE": "menu",
            "VOICE_PUBLIC_URL": "https://voice.example.com/",
        }
    )
    assert config.at_username == "acme"
    assert config.at_voice_number == "+254711082000"
    assert config.at_voice_url == "http://127.0.0.1:5001"
    assert config.database_url.startswith("postgresql+psycopg://")
    assert config.webhook_secret == "s3cret-0123456789"
    assert config.at_timeout_seconds == 4.5
    assert config.max_body_bytes == 1000
    assert config.strict_fields is True
    assert (config.pool_size, config.statement_timeout_ms) == (3, 750)
    assert config.flow_file == "menu"
    assert config.public_url == "https://voice.example.com"
    assert not config.talks_to_real_at


def test_defaults_to_a_sqlite_file() -> None:
    assert Config.from_env(BASE_ENV).database_url == "sqlite:///voice-events.db"


@pytest.mark.parametrize("variable", ["AT_USERNAME", "AT_API_KEY", "AT_VOICE_NUMBER"])
def test_missing_required_setting_names_the_variable(variable: str) -> None:
    env = {k: v for k, v in BASE_ENV.items() if k != variable}
    with pytest.raises(ConfigError) as excinfo:
        Config.from_env(env)
    assert excinfo.value.variable == variable
    assert str(excinfo.value).startswith(variable)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AT_VOICE_NUMBER", "07110820"),
        ("AT_VOICE_URL", "voice.local"),
        ("AT_VOICE_URL", "http://127.0.0.1:5001?key=x"),  # the SDK appends /call to it
        ("DATABASE_URL", "voice.db"),
        ("DATABASE_URL", "mysql://voice@127.0.0.1/voice"),
        ("DATABASE_URL", "sqlite:///:memory:"),
        ("DATABASE_URL", "sqlite://"),
        ("DATABASE_URL", "postgresql+nosuchdriver://voice@127.0.0.1/voice"),
        ("DATABASE_POOL_SIZE", "0"),
        ("DATABASE_STATEMENT_TIMEOUT_MS", "soon"),
        ("VOICE_PUBLIC_URL", "voice.example.com"),
        ("VOICE_PUBLIC_URL", "https://voice.example.com/?secret=x"),
        ("VOICE_PUBLIC_URL", "https://voice example.com"),  # every flow URL would be invalid
        ("VOICE_PUBLIC_URL", "https://voice.example.com#top"),
        ("AT_API_KEY", "key with spaces"),
        ("AT_API_KEY", "key\x07bell"),
        ("AT_USERNAME", "acme\tcorp"),
        ("VOICE_API_TOKEN", "token with spaces 0123"),
        ("VOICE_API_TOKEN", "t\u00f6ken-0123456789abcdef"),  # a header cannot carry it as is
        ("AT_TIMEOUT_SECONDS", "soon"),
        ("AT_TIMEOUT_SECONDS", "0"),
        ("VOICE_MAX_BODY_BYTES", "-1"),
        ("VOICE_STRICT_FIELDS", "maybe"),
        ("VOICE_API_TOKEN", "short"),
        ("VOICE_WEBHOOK_SECRET", "short"),
        # Longer than any ?secret= the webhooks take: every webhook would be refused.
        ("VOICE_WEBHOOK_SECRET", "s" * 257),
        # Accepted by float() but no timeout: infinity, or one the socket cannot hold.
        ("AT_TIMEOUT_SECONDS", "1.0e999"),
        ("AT_TIMEOUT_SECONDS", "10000000000"),
        ("DATABASE_STATEMENT_TIMEOUT_MS", "2147483648"),
        ("AT_VOICE_URL", "http://[::1"),
        ("AT_VOICE_URL", "http://127.0.0.1:99999"),
        ("AT_VOICE_URL", "http://127.0.0.1:abc"),
        # An empty query or fragment still swallows the path appended to the base URL.
        ("VOICE_PUBLIC_URL", "https://voice.example.com/?"),
        ("VOICE_PUBLIC_URL", "https://voice.example.com/#"),
        ("VOICE_PUBLIC_URL", "https://voice.example.com:99999"),
        # In-memory SQLite in URI form: each connection its own database, lost at restart.
        ("DATABASE_URL", "sqlite:///file::memory:?uri=true"),
        ("DATABASE_URL", "sqlite:///file:voice?mode=memory&cache=shared&uri=true"),
        ("DATABASE_URL", "sqlite+pysqlcipher:///voice.db"),
    ],
)
def test_invalid_setting_names_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        Config.from_env({**BASE_ENV, variable: value})
    assert excinfo.value.variable == variable


def test_refuses_to_talk_to_real_at_without_a_token() -> None:
    env = {**BASE_ENV, "AT_USERNAME": "acme"}
    with pytest.raises(ConfigError) as excinfo:
        Config.from_env(env)
    assert excinfo.value.variable == "VOICE_API_TOKEN"
    explicit_real = {**env, "AT_VOICE_URL": "https://voice.africastalking.com"}
    with pytest.raises(ConfigError):
        Config.from_env(explicit_real)
    assert Config.from_env({**env, "VOICE_API_TOKEN": "t" * 16}).talks_to_real_at


@pytest.mark.parametrize(
    "url", ["https://voice.africastalking.com.", "https://VOICE.AfricasTalking.com./"]
)
def test_the_real_at_host_written_as_a_full_name_still_needs_a_token(url: str) -> None:
    env = {**BASE_ENV, "AT_USERNAME": "acme", "AT_VOICE_URL": url}
    with pytest.raises(ConfigError) as excinfo:
        Config.from_env(env)
    assert excinfo.value.variable == "VOICE_API_TOKEN"


def test_a_webhook_secret_of_the_longest_length_taken_is_accepted() -> None:
    secret = "s" * Config.MAX_WEBHOOK_SECRET_LENGTH
    assert Config.from_env({**BASE_ENV, "VOICE_WEBHOOK_SECRET": secret}).webhook_secret == secret


def test_may_run_open_against_the_sandbox_or_a_simulator() -> None:
    assert Config.from_env(BASE_ENV).is_open
    simulator = {**BASE_ENV, "AT_USERNAME": "acme", "AT_VOICE_URL": "http://127.0.0.1:5001"}
    assert Config.from_env(simulator).is_open


def test_api_key_and_token_are_not_in_the_repr() -> None:
    config = Config.from_env({**BASE_ENV, "VOICE_API_TOKEN": "secret-token-123456"})
    assert "secret-token" not in repr(config)
    assert "'key'" not in repr(config)


def test_the_start_up_log_masks_credentials_in_at_voice_url(
    config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    host = config.at_voice_url.removeprefix("http://") if config.at_voice_url else ""
    # (A query string is refused: the SDK appends /call to the URL.)
    url = f"http://atsim:start-up-password@{host}/"
    with caplog.at_level(logging.INFO, logger="at_voice_kit.service"):
        create_app(replace(config, at_voice_url=url))
    assert f"calls via http://atsim:***@{host}" in caplog.text
    assert "start-up-password" not in caplog.text


def test_every_problem_is_reported_at_once_each_naming_its_variable() -> None:
    env = {
        "AT_USERNAME": "acme",
        "VOICE_WEBHOOK_SECRET": "short",
        "AT_TIMEOUT_SECONDS": "soon",
        "DATABASE_URL": "mysql://voice@127.0.0.1/voice",
        "VOICE_PUBLIC_URL": "voice.example.com",
    }
    with pytest.raises(ConfigError) as excinfo:
        Config.from_env(env)
    assert [variable for variable, _ in excinfo.value.problems] == [
        "AT_API_KEY",
        "AT_VOICE_NUMBER",
        "AT_TIMEOUT_SECONDS",
        "VOICE_PUBLIC_URL",
        "DATABASE_URL",
        "VOICE_API_TOKEN",
        "VOICE_WEBHOOK_SECRET",
    ]
    assert str(excinfo.value).splitlines()[0] == "AT_API_KEY: is required but not set"


def test_a_value_that_cannot_be_read_is_reported_alone_not_what_its_placeholder_led_to() -> None:
    # A missing AT_USERNAME must not also demand VOICE_API_TOKEN (the real-AT rule).
    env = {k: v for k, v in BASE_ENV.items() if k != "AT_USERNAME"}
    with pytest.raises(ConfigError) as excinfo:
        Config.from_env(env)
    assert excinfo.value.problems == (("AT_USERNAME", "is required but not set"),)
