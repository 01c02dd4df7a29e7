"""Fixtures for the service: a config on a temporary SQLite file, a fake AT, the app."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import falcon.testing
import pytest

from at_voice_kit.service.app import create_app
from at_voice_kit.service.config import Config
from tests.service.fake_at import FakeAT, run_fake_at

API_TOKEN = "test-token-0123456789abcdef"
AT_NUMBER = "+254711082000"


@pytest.fixture
def fake_at() -> Iterator[FakeAT]:
    yield from run_fake_at()


@pytest.fixture
def config(tmp_path: Path, fake_at: FakeAT) -> Config:
    """An open (token-less) service against the fake AT, on a fresh SQLite file."""
    return Config(
        at_username="testuser",
        at_api_key="test-key",
        at_voice_number=AT_NUMBER,
        at_voice_url=fake_at.url,
        database_url=f"sqlite:///{tmp_path / 'voice.db'}",
        at_timeout_seconds=2.0,
    )


@pytest.fixture
def client(config: Config) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(config))


@pytest.fixture
def secured_client(config: Config) -> falcon.testing.TestClient:
    """The service with VOICE_API_TOKEN set."""
    return falcon.testing.TestClient(create_app(replace(config, api_token=API_TOKEN)))


def auth(token: str = API_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
