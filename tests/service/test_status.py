"""``GET /voice/``: the documented answer, and honest readiness."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import falcon.testing
import psycopg

from at_voice_kit.service.app import create_app
from at_voice_kit.service.config import Config


def test_documented_answer(client: falcon.testing.TestClient) -> None:
    for path in ("/voice/", "/voice"):
        result = client.simulate_get(path)
        assert result.status_code == 200
        assert result.json == {"service": "voice", "status": "ready"}
        assert result.headers["content-type"] == "application/json"


def test_not_ready_when_the_database_is_gone(config: Config, postgres_url: str) -> None:
    client = falcon.testing.TestClient(create_app(replace(config, database_url=postgres_url)))
    assert client.simulate_get("/voice/").status_code == 200
    server, name = postgres_url.rsplit("/", 1)
    admin = server.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')  # type: ignore[call-overload]
    result = client.simulate_get("/voice/")
    assert result.status_code == 503
    assert result.json["status"] == 503
    assert "database" in result.json["detail"]
    assert result.headers["retry-after"] == "5"
    events = client.simulate_post(
        "/voice/events",
        body="sessionId=ATVId_x&eventType=SessionEnded",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert events.status_code == 503  # never "OK" for an event that was not stored


def test_not_ready_while_the_database_file_is_gone(config: Config) -> None:
    """A probe that only queried a pooled connection answered 200 after ``rm voice.db*``:
    that connection still had the deleted file open, and every webhook was lost."""
    client = falcon.testing.TestClient(create_app(config))
    assert client.simulate_get("/voice/").status_code == 200
    database = Path(config.database_url.removeprefix("sqlite:///"))
    for path in database.parent.glob(f"{database.name}*"):
        path.unlink()
    result = client.simulate_get("/voice/")
    assert result.status_code == 503
    assert result.headers["retry-after"] == "5"
    assert f"{database} is gone" in result.json["status_reason"]
    events = client.simulate_post(
        "/voice/events",
        body="sessionId=ATVId_x&eventType=SessionEnded",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert events.status_code == 503


def test_unknown_path_is_a_json_404(client: falcon.testing.TestClient) -> None:
    result = client.simulate_get("/voice/nothing-here")
    assert result.status_code == 404
    assert result.headers["content-type"] == "application/problem+json"


def test_head_probe_answers_without_a_body(client: falcon.testing.TestClient) -> None:
    result = client.simulate_head("/voice/")
    assert result.status_code == 200
    assert result.content == b""
