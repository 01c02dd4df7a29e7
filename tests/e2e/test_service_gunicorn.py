"""The service as operators run it: ``gunicorn 'at_voice_kit.service.app:create_app()'``, over real
HTTP.

The service docs' curl examples are run with curl itself, as written (only the port differs).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.processes import (
    RunningProcess,
    child_pids,
    free_port,
    gunicorn_argv,
    run_until_exit,
    running,
)
from tests.service.fake_at import FakeAT, run_fake_at

pytestmark = pytest.mark.e2e

DOCS_CURL_EXAMPLES = {
    "status": "curl -X GET http://localhost:5000/voice/",
    "invoke": 'curl -X GET "http://localhost:5000/voice/invoke-call?phone=254711082369"',
    "instruct": """curl -X POST http://localhost:5000/voice/instruct \\
  -d "sessionId=ATVId_abc123" \\
  -d "callerNumber=+254711XXXYYY" \\
  -d "destinationNumber=+254700000000\"""",
    "events": """curl -X POST http://localhost:5000/voice/events \\
  -d "sessionId=ATVId_abc123" \\
  -d "eventType=SessionEnded" \\
  -d "callerNumber=+254711XXXYYY" \\
  -d "destinationNumber=+254700000000" \\
  -d "hangupCause=NORMAL_CLEARING" \\
  -d "direction=outbound" \\
  -d "callStartTime=2025-09-29 10:30:00" \\
  -d "durationInSeconds=45" \\
  -d "currencyCode=KES" \\
  -d "amount=5.00\"""",
}
"""From voice-service-docs.txt; the invoke example's placeholder number made real."""


@pytest.fixture
def fake_at() -> Iterator[FakeAT]:
    yield from run_fake_at()


def service_env(tmp_path: Path, fake_at: FakeAT, **extra: str) -> dict[str, str]:
    return {
        "AT_USERNAME": "testuser",
        "AT_API_KEY": "test-key",
        "AT_VOICE_NUMBER": "+254711082000",
        "AT_VOICE_URL": fake_at.url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'voice.db'}",
        "VOICE_WORKERS": "2",
        **extra,
    }


@pytest.fixture
def service(tmp_path: Path, fake_at: FakeAT) -> Iterator[RunningProcess]:
    port = free_port()
    with running(
        gunicorn_argv(port),
        env=service_env(tmp_path, fake_at),
        url=f"http://127.0.0.1:{port}",
        ready_path="/voice/",
        log_path=tmp_path / "gunicorn.log",
    ) as process:
        yield process


def run_curl(example: str, base_url: str) -> str:
    assert shutil.which("curl"), "curl is needed to run the docs' examples (see .ci/run)"
    argv = shlex.split(example.replace("http://localhost:5000", base_url).replace("\\\n", " "))
    result = subprocess.run([*argv, "-sS", "--fail-with-body"], capture_output=True, timeout=30)
    assert result.returncode == 0, result.stderr.decode() + result.stdout.decode()
    return result.stdout.decode()


def test_docs_curl_examples_work_as_written(service: RunningProcess, fake_at: FakeAT) -> None:
    assert json.loads(run_curl(DOCS_CURL_EXAMPLES["status"], service.url)) == {
        "service": "voice",
        "status": "ready",
    }
    invoked = json.loads(run_curl(DOCS_CURL_EXAMPLES["invoke"], service.url))
    assert invoked["message"] == "Call initiated to +254711082369"
    assert invoked["response"]["entries"][0]["status"] == "Queued"
    assert fake_at.received[0]["form"]["to"] == "+254711082369"
    xml = run_curl(DOCS_CURL_EXAMPLES["instruct"], service.url)
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert "Welcome to the service. This is a demo voice application. Goodbye." in xml
    assert run_curl(DOCS_CURL_EXAMPLES["events"], service.url) == "OK"
    history = requests.get(f"{service.url}/voice/calls/ATVId_abc123", timeout=5).json()
    assert [e["kind"] for e in history["events"]] == ["Callback", "SessionEnded"]
    assert history["outcome"]["hangupCause"] == "NORMAL_CLEARING"


def test_open_mode_is_announced_in_the_log(service: RunningProcess) -> None:
    assert "running OPEN" in service.log()


def test_access_log_does_not_carry_query_strings(service: RunningProcess) -> None:
    requests.get(f"{service.url}/voice/invoke-call?phone=254711082369", timeout=10)
    deadline = time.monotonic() + 10
    # The worker writes its access line after the response: wait for it.
    while "/voice/invoke-call" not in service.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    access_lines = [line for line in service.log().splitlines() if '"GET /voice/' in line]
    assert any("/voice/invoke-call" in line for line in access_lines)
    assert not any("254711082369" in line or "phone=" in line for line in access_lines)


def start_and_fail(tmp_path: Path, env: dict[str, str]) -> str:
    """Start the service as in production and return its output once it has given up."""
    status, output = run_until_exit(
        gunicorn_argv(free_port()),
        env={**{k: v for k, v in os.environ.items() if not k.startswith("AT_")}, **env},
    )
    assert status != 0, output
    return output


def test_missing_setting_fails_at_start_naming_the_variable(
    tmp_path: Path, fake_at: FakeAT
) -> None:
    env = service_env(tmp_path, fake_at)
    del env["AT_API_KEY"]
    output = start_and_fail(tmp_path, env)
    assert "AT_API_KEY: is required but not set" in output
    assert "Traceback" not in output


def test_every_start_up_problem_is_reported_at_once_before_the_port_is_bound(
    tmp_path: Path, fake_at: FakeAT
) -> None:
    env = service_env(
        tmp_path,
        fake_at,
        VOICE_WORKERS="0",
        VOICE_WEBHOOK_SECRET="short",
        VOICE_FLOW_FILE=str(tmp_path / "no-such-flow.yaml"),
    )
    del env["AT_API_KEY"]
    port = free_port()
    status, output = run_until_exit(
        gunicorn_argv(port),
        env={**{k: v for k, v in os.environ.items() if not k.startswith("AT_")}, **env},
    )
    assert status == 2, output
    assert "voice service cannot start: 4 problems" in output
    for line in (
        "VOICE_WORKERS: must be a whole number greater than zero",
        "AT_API_KEY: is required but not set",
        "VOICE_WEBHOOK_SECRET: must be 16 to 256 characters long",
        "VOICE_FLOW_FILE: ",
        "shipped flows: menu, welcome",
    ):
        assert line in output
    assert "Traceback" not in output
    assert "Listening at" not in output and "Booting worker" not in output


def test_a_bad_flow_file_stops_the_master_not_the_workers(tmp_path: Path, fake_at: FakeAT) -> None:
    flow = tmp_path / "flow.yaml"
    flow.write_text("start: hello\nsteps: {hello: {actions: [{say: ''}]}}\n", encoding="utf-8")
    output = start_and_fail(tmp_path, service_env(tmp_path, fake_at, VOICE_FLOW_FILE=str(flow)))
    assert output.count("VOICE_FLOW_FILE: ") == 1, output
    assert "Worker failed to boot" not in output and "Traceback" not in output


@pytest.mark.parametrize(("variable", "value"), [("VOICE_WORKERS", "0"), ("VOICE_THREADS", "many")])
def test_bad_gunicorn_setting_fails_at_start_naming_the_variable(
    tmp_path: Path, fake_at: FakeAT, variable: str, value: str
) -> None:
    output = start_and_fail(tmp_path, service_env(tmp_path, fake_at, **{variable: value}))
    assert f"{variable}: must be a whole number greater than zero" in output


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        # gunicorn raised OverflowError (a traceback of 30 lines) once it tried to bind.
        ("127.0.0.1:99999", "must have a port number from 0 to 65535"),
        # gunicorn's own "'abc' is not a valid port number", naming no variable, before any
        # other check: the missing AT_API_KEY would only show at the next attempt.
        ("127.0.0.1:abc", "must have a port number from 0 to 65535"),
        ("::1:5000", "must write an IPv6 address in brackets"),
    ],
)
def test_a_bad_bind_address_is_reported_with_every_other_problem(
    tmp_path: Path, fake_at: FakeAT, address: str, problem: str
) -> None:
    env = service_env(tmp_path, fake_at, VOICE_BIND=address)
    del env["AT_API_KEY"]
    # The production command line, where VOICE_BIND says where to listen (no --bind).
    argv = [arg for arg in gunicorn_argv(0) if arg not in ("--bind", "127.0.0.1:0")]
    status, output = run_until_exit(
        argv, env={**{k: v for k, v in os.environ.items() if not k.startswith("AT_")}, **env}
    )
    assert status == 2, output
    assert "voice service cannot start: 2 problems" in output, output
    assert f"VOICE_BIND: {problem}" in output
    assert "AT_API_KEY: is required but not set" in output
    assert "Traceback" not in output and "Listening at" not in output


@pytest.mark.parametrize("value", ["0", "-1", "soon", "301"])
def test_a_bad_read_timeout_fails_at_start_naming_the_variable(
    tmp_path: Path, fake_at: FakeAT, value: str
) -> None:
    output = start_and_fail(tmp_path, service_env(tmp_path, fake_at, VOICE_READ_TIMEOUT=value))
    assert "VOICE_READ_TIMEOUT: must be a number of seconds greater than 0 and at most 300" in (
        output
    )


def test_workers_stop_when_the_master_is_killed_so_a_restart_can_bind(
    tmp_path: Path, fake_at: FakeAT
) -> None:
    """A worker whose master died (``kill -9``) stops, as gunicorn's own workers do: an
    orphan would keep serving on the inherited socket, and a restarted service could not bind
    the port."""
    port = free_port()
    env = service_env(tmp_path, fake_at)
    with running(
        gunicorn_argv(port),
        env=env,
        url=f"http://127.0.0.1:{port}",
        ready_path="/voice/",
        log_path=tmp_path / "first.log",
    ) as first:
        workers = child_pids(first.process.pid)
        assert workers
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=15)
        deadline = time.monotonic() + 10
        while any(Path(f"/proc/{pid}").exists() for pid in workers):
            assert time.monotonic() < deadline, f"orphaned workers still run:\n{first.log()}"
            time.sleep(0.1)
    with running(
        gunicorn_argv(port),
        env=env,
        url=f"http://127.0.0.1:{port}",
        ready_path="/voice/",
        log_path=tmp_path / "second.log",
    ) as second:
        assert requests.get(f"{second.url}/voice/", timeout=5).status_code == 200


def test_an_unknown_log_level_fails_at_start_naming_the_variable(
    tmp_path: Path, fake_at: FakeAT
) -> None:
    """gunicorn itself would log at "info" without a word."""
    output = start_and_fail(tmp_path, service_env(tmp_path, fake_at, VOICE_LOG_LEVEL="loud"))
    assert "VOICE_LOG_LEVEL: must be one of debug, info, warning, error, critical" in output


def test_bad_max_requests_fails_at_start_naming_the_variable(
    tmp_path: Path, fake_at: FakeAT
) -> None:
    env = service_env(tmp_path, fake_at, VOICE_MAX_REQUESTS="-1")
    output = start_and_fail(tmp_path, env)
    assert "VOICE_MAX_REQUESTS: must be a whole number of at least 0" in output


def post_events(url: str, count: int, session: requests.Session) -> None:
    for number in range(count):
        answer = session.post(
            f"{url}/voice/events",
            data={"sessionId": f"ATVId_recycle{number:04d}", "eventType": "SessionRinging"},
            # A request after a recycling waits for the next worker to boot (imports and
            # all), which takes seconds on a loaded machine.
            timeout=60,
        )
        assert answer.status_code == 200 and answer.text == "OK", answer.text


@pytest.mark.parametrize(("setting", "recycled"), [(None, False), ("20", True)])
def test_workers_are_recycled_only_when_max_requests_is_set(
    tmp_path: Path, fake_at: FakeAT, setting: str | None, recycled: bool
) -> None:
    extra = {"VOICE_WORKERS": "1"} | ({"VOICE_MAX_REQUESTS": setting} if setting else {})
    port = free_port()
    with (
        running(
            gunicorn_argv(port),
            env=service_env(tmp_path, fake_at, **extra),
            url=f"http://127.0.0.1:{port}",
            ready_path="/voice/",
            log_path=tmp_path / "gunicorn.log",
        ) as service,
        requests.Session() as session,
    ):
        first_workers = set(child_pids(service.process.pid))
        post_events(service.url, 60, session)
        # A recycled worker is replaced after it answers: wait for the replacement.
        deadline = time.monotonic() + (60 if recycled else 1)
        while time.monotonic() < deadline:
            replacements = set(child_pids(service.process.pid)) - first_workers
            if replacements:
                break
            time.sleep(0.1)
        history = requests.get(f"{service.url}/voice/calls?limit=100", timeout=10).json()
    # 60 requests with a limit of 20 (jitter 2): two or three replacements.
    assert first_workers, "gunicorn has no workers"
    assert bool(replacements) is recycled, (first_workers, replacements)
    assert len({item["sessionId"] for item in history["calls"]}) == 60


def test_refuses_to_start_against_real_at_without_a_token(tmp_path: Path, fake_at: FakeAT) -> None:
    env = service_env(tmp_path, fake_at)
    del env["AT_VOICE_URL"]
    output = start_and_fail(tmp_path, env)
    assert "VOICE_API_TOKEN: must be set" in output


def test_invalid_flow_file_fails_at_start(tmp_path: Path, fake_at: FakeAT) -> None:
    flow = tmp_path / "flow.yaml"
    flow.write_text("start: a\nsteps:\n  a:\n    actions:\n      - goto: b\n")
    output = start_and_fail(tmp_path, service_env(tmp_path, fake_at, VOICE_FLOW_FILE=str(flow)))
    assert "leads to unknown step 'b'" in output


def test_token_protects_invoke_call_and_history(tmp_path: Path, fake_at: FakeAT) -> None:
    port = free_port()
    token = "e2e-token-0123456789"
    with running(
        gunicorn_argv(port),
        env=service_env(tmp_path, fake_at, VOICE_API_TOKEN=token),
        url=f"http://127.0.0.1:{port}",
        ready_path="/voice/",
        log_path=tmp_path / "gunicorn.log",
    ) as service:
        url = f"{service.url}/voice/invoke-call"
        denied = requests.post(url, data={"phone": "254711082369"}, timeout=10)
        assert denied.status_code == 401
        assert fake_at.received == []
        allowed = requests.post(
            url,
            data={"phone": "254711082369"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert allowed.status_code == 200
        assert "running OPEN" not in service.log()


@pytest.mark.parametrize("worker_class", ["gthread", "uvicorn_worker.UvicornWorker"])
def test_a_worker_class_that_cannot_serve_the_service_stops_the_start(
    tmp_path: Path, fake_at: FakeAT, worker_class: str
) -> None:
    # gthread (the workers of the release before) booted and answered every webhook 500,
    # logging its URL with the webhook secret; a plain uvicorn worker had no read timeout.
    env = service_env(tmp_path, fake_at)
    del env["AT_API_KEY"]
    status, output = run_until_exit(
        gunicorn_argv(free_port(), "--worker-class", worker_class),
        env={**{k: v for k, v in os.environ.items() if not k.startswith("AT_")}, **env},
    )
    assert status == 2, output
    assert "voice service cannot start: 2 problems" in output, output
    assert "--worker-class: must be at_voice_kit.service.server.VoiceWorker" in output
    assert "AT_API_KEY: is required but not set" in output
    assert "Traceback" not in output and "Booting worker" not in output
