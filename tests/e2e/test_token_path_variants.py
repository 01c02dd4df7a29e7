"""The service under gunicorn, spoken to over raw sockets: no spelling of a protected path
gets past ``VOICE_API_TOKEN`` (the in-process half is ``tests/service/
test_token_path_variants.py``; http.client sends each path exactly as written)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.processes import free_port, gunicorn_argv, running
from tests.path_variants import send_raw
from tests.service.fake_at import FakeAT, run_fake_at
from tests.service.test_token_path_variants import Answer, Send, check_the_token_holds

pytestmark = pytest.mark.e2e

TOKEN = "gunicorn-path-variant-token-0123"


@pytest.fixture
def fake_at() -> Iterator[FakeAT]:
    yield from run_fake_at()


def socket_sender(base_url: str) -> Send:
    def send(method: str, target: str, headers: dict[str, str], form: str | None) -> Answer:
        answer = send_raw(base_url, method, target, headers=headers, text_body=form)
        return Answer(answer.status, answer.text)

    return send


def test_no_spelling_of_a_protected_path_passes_the_token_under_gunicorn(
    tmp_path: Path, fake_at: FakeAT
) -> None:
    port = free_port()
    env = {
        "AT_USERNAME": "testuser",
        "AT_API_KEY": "test-key",
        "AT_VOICE_NUMBER": "+254711082000",
        "AT_VOICE_URL": fake_at.url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'voice.db'}",
        "VOICE_API_TOKEN": TOKEN,
        "VOICE_WORKERS": "2",
    }
    with running(
        gunicorn_argv(port),
        env=env,
        url=f"http://127.0.0.1:{port}",
        ready_path="/voice/",
        log_path=tmp_path / "gunicorn.log",
    ) as service:
        check_the_token_holds(socket_sender(service.url), fake_at, TOKEN)
