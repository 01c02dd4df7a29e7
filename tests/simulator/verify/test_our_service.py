"""``atsim verify`` against the project's own service, run as operators run it (gunicorn):
a clean report for the default welcome flow and for the menu flow, no false alarms; and a
failure the moment the service is misconfigured against its callers."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from tests.e2e.processes import RunningProcess, free_port, gunicorn_argv, running

pytestmark = pytest.mark.e2e

ATSIM = str(Path(sys.executable).with_name("atsim"))
SECRET = "verify-webhook-secret"


def service(tmp_path: Path, **env: str) -> Iterator[RunningProcess]:
    port = free_port()
    with running(
        gunicorn_argv(port),
        env={
            "AT_USERNAME": "testuser",
            "AT_API_KEY": "test-key",
            "AT_VOICE_NUMBER": "+254711082000",
            "AT_VOICE_URL": "http://127.0.0.1:9",  # verify never makes the service call AT
            "DATABASE_URL": f"sqlite:///{tmp_path / 'voice.db'}",
            "VOICE_WORKERS": "2",
            "VOICE_ACCESS_LOG": "/dev/null",
            **env,
        },
        url=f"http://127.0.0.1:{port}",
        ready_path="/voice/",
        log_path=tmp_path / "gunicorn.log",
    ) as process:
        yield process


@pytest.fixture
def welcome_service(tmp_path: Path) -> Iterator[RunningProcess]:
    yield from service(tmp_path)


@pytest.fixture
def menu_service(tmp_path: Path) -> Iterator[RunningProcess]:
    yield from service(tmp_path, VOICE_FLOW_FILE="menu", VOICE_WEBHOOK_SECRET=SECRET)


def verify(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ATSIM, "verify", *args], capture_output=True, text=True, timeout=240, check=False
    )


def test_the_welcome_flow_under_gunicorn_gets_a_clean_report(
    welcome_service: RunningProcess, tmp_path: Path
) -> None:
    junit = tmp_path / "junit.xml"
    result = verify(welcome_service.url + "/voice", "--seed", "7", "--json", "--report", str(junit))
    report = json.loads(result.stdout)
    assert result.returncode == 0, json.dumps(report["problems"], indent=1)[:4000]
    assert report["ok"] and not report["problems"]
    categories = {s["category"] for s in report["scenarios"]}
    assert categories == {"crawl", "outcomes", "hangups", "markets", "event-delivery",
                          "event-orders", "optional-fields", "generated"}  # fmt: skip
    assert report["counts"]["requests"] > 500
    root = etree.parse(str(junit)).getroot()
    assert root.get("failures") == "0" and int(root.get("tests")) > 1000
    assert "Exception" not in welcome_service.log()


def test_the_menu_flow_with_a_webhook_secret_gets_a_clean_report(
    menu_service: RunningProcess,
) -> None:
    base = menu_service.url + "/voice"
    result = verify(
        "--callback-url", f"{base}/instruct?secret={SECRET}",
        "--events-url", f"{base}/events?secret={SECRET}",
        "--seed", "8",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("atsim verify: OK - no problems in ")
    # The report names the URLs with their secret masked (it ends up in CI logs).
    assert SECRET not in result.stdout
    assert f"target: callback URL {base}/instruct?secret=***, events URL" in result.stdout
    crawl = verify(
        "--callback-url", f"{base}/instruct?secret={SECRET}", "--no-events",
        "--seed", "8", "--only", "crawl", "--json", "--show-secrets",
    )  # fmt: skip
    assert json.loads(crawl.stdout)["target"]["callbackUrl"] == f"{base}/instruct?secret={SECRET}"
    ids = {s["id"] for s in json.loads(crawl.stdout)["scenarios"]}
    # Every branch of the menu: message (and silence), agent (answered, nobody free), hours,
    # an invalid key, * and no input; in both directions.
    for direction in ("outbound", "inbound"):
        for path in ("start", "1", "1/silent", "2", "2/dial-answered", "3", "4", "*"):
            assert f"crawl/{direction}/{path}" in ids


def test_the_menu_flow_without_its_secret_is_reported_failing(
    menu_service: RunningProcess,
) -> None:
    result = verify(menu_service.url + "/voice", "--seed", "9", "--quick", "--only", "outcomes")
    assert result.returncode == 1
    assert "HTTP 403 answering" in result.stdout
