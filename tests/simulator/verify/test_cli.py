"""The real ``atsim verify`` console script: exit codes, the readable report, ``--json``,
``--report junit.xml``, the progress line, and ``curl`` commands that really reproduce."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from tests.e2e.processes import free_port
from tests.simulator.verify.servers import serve_wsgi
from tests.simulator.verify.webhook_apps import (
    CrashOnUnknownCause,
    IvrApp,
    RedirectToImpossiblePort,
)

ATSIM = str(Path(sys.executable).with_name("atsim"))


def atsim(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ATSIM, "verify", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def good_app() -> Iterator[str]:
    with serve_wsgi(IvrApp()) as url:
        yield url + "/voice"


@pytest.fixture
def unknown_cause_app() -> Iterator[str]:
    with serve_wsgi(CrashOnUnknownCause()) as url:
        yield url + "/voice"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give the service's BASE_URL or its --callback-url"),
        (("http://127.0.0.1:9", "--callback-url", "http://127.0.0.1:9/i"), "not both"),
        (("ftp://127.0.0.1/voice",), "must be an absolute http:// or https:// URL"),
        (("http://127.0.0.1:9", "--only", "everything"), "unknown category 'everything'"),
        (("http://127.0.0.1:9", "--header", "no colon"), "--header must look like"),
        (("http://127.0.0.1:9", "--timeout", "-1"), "--timeout: must be between 0 and 3600"),
        (("http://127.0.0.1:9", "--timeout", "0"), "timeout must be a positive number"),
        (("http://127.0.0.1:9", "--at-number", "12"), "at-number '12'"),
        (("http://127.0.0.1:9", "--no-events", "--events-url", "http://x/e"), "contradict"),
        (("http://127.0.0.1:9", "--only", "crawl", "--skip", "crawl"), "at least one category"),
        (("http://127.0.0.1:9", "--concurrency", "0"), "must be at least 1"),
        # URLs no request can be sent to: refused up front, not a traceback.
        (("http://[::1",), "the base URL must be a well-formed URL (Invalid IPv6 URL)"),
        (("http://127.0.0.1:abc/voice",), "the base URL must have a port from 1 to 65535"),
        (("--callback-url", "http://127.0.0.1:99999/x"), "the callback URL must have a port"),
        (("http://127.0.0.1:9", "--events-url", "http://127.0.0.1:0/e"), "the events URL"),
        # Headers no request can carry: refused naming the header (not run as "0 requests").
        (("http://127.0.0.1:9", "--header", "X-Token: café"), "header 'X-Token' must have"),
        (("http://127.0.0.1:9", "--header", "Content-Length: 5"), "'Content-Length' cannot"),
        (("http://127.0.0.1:9", "--header", "Transfer-Encoding: chunked"), "cannot be set"),
        (("http://127.0.0.1:9", "--header", "Host: example.com"), "'Host' cannot be set"),
    ],
)
def test_usage_errors_exit_2_and_say_what_is_wrong(args: tuple[str, ...], message: str) -> None:
    result = atsim(*args, timeout=60)
    assert result.returncode == 2, result
    assert message in result.stderr, result.stderr
    assert result.stdout == ""


def test_a_correct_service_passes_with_exit_0_and_clean_machine_reports(
    good_app: str, tmp_path: Path
) -> None:
    junit = tmp_path / "reports" / "junit.xml"
    result = atsim(good_app, "--seed", "4", "--quick", "--json", "--report", str(junit))
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["problems"] == []
    assert report["seed"] == 4
    assert report["target"]["callbackUrl"] == good_app + "/instruct"
    assert report["target"]["eventsUrl"] == good_app + "/events"
    assert {s["category"] for s in report["scenarios"]} >= {"crawl", "outcomes", "generated"}
    assert all(s["ok"] for s in report["scenarios"])
    tree = etree.parse(str(junit))
    root = tree.getroot()
    cases = root.findall("./testsuite/testcase")
    assert root.tag == "testsuites"
    assert int(root.get("tests")) == len(cases) > len(report["scenarios"])
    assert root.get("failures") == "0"
    assert not root.findall(".//failure")
    names = {case.get("name") for case in cases}
    assert "crawl/outbound/start :: first-answer-actionable" in names
    assert "outcomes/outbound/USER_BUSY :: final-notification-2xx" in names


def test_a_broken_service_fails_with_exit_1_a_readable_report_and_junit_failures(
    unknown_cause_app: str, tmp_path: Path
) -> None:
    junit = tmp_path / "junit.xml"
    result = atsim(unknown_cause_app, "--seed", "4", "--only", "outcomes", "--report", str(junit))
    assert result.returncode == 1, result.stdout + result.stderr
    text = result.stdout
    assert text.startswith("atsim verify: FAILED - 1 problem (1 error, 0 warnings)")
    assert "ERROR [final-notification-2xx] HTTP 500 answering the final notification" in text
    assert "outcomes/outbound/" in text
    assert "curl -sS -i --max-time 10 -X POST" in text
    assert "Coverage:" in text
    root = etree.parse(str(junit)).getroot()
    failed = {
        case.get("name") for case in root.iter("testcase") if case.find("failure") is not None
    }
    assert "outcomes/outbound/SUBSCRIBER_ABSENT :: final-notification-2xx" in failed
    assert "outcomes/outbound/USER_BUSY :: final-notification-2xx" not in failed  # docs' cause
    assert "outcomes/undocumented/INVALID_NUMBER :: final-notification-2xx" not in failed
    assert int(root.get("failures")) == len(failed)
    failure = root.find(".//testcase[@name='outcomes/outbound/SUBSCRIBER_ABSENT :: "
                        "final-notification-2xx']/failure")  # fmt: skip
    assert failure is not None and "hangupCause=SUBSCRIBER_ABSENT" in (failure.text or "")


def test_json_output_carries_the_exact_request_and_its_curl_reproduces_the_failure(
    unknown_cause_app: str,
) -> None:
    assert shutil.which("curl"), "curl is needed (see .ci/run)"
    result = atsim(unknown_cause_app, "--seed", "4", "--only", "outcomes", "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    [problem] = report["problems"]
    assert problem["check"] == "final-notification-2xx"
    assert problem["severity"] == "error"
    example = problem["example"]
    assert example["role"] == "final"
    assert example["answer"]["status"] == 500
    assert ["isActive", "0"] in example["fields"]
    replay = subprocess.run(
        ["bash", "-c", example["curl"]], capture_output=True, text=True, timeout=30, check=False
    )
    status_line = replay.stdout.splitlines()[0]
    assert " 500 " in status_line, replay.stdout + replay.stderr
    assert report["counts"]["errors"] == 1
    failing = [s for s in report["scenarios"] if not s["ok"]]
    assert {s["id"] for s in failing} == set(problem["scenarios"])


def test_the_progress_line_shows_on_request_and_not_otherwise(good_app: str) -> None:
    shown = atsim(good_app, "--seed", "2", "--only", "outcomes", "--progress")
    assert shown.returncode == 0
    assert "atsim verify [" in shown.stderr and "/" in shown.stderr
    quiet = atsim(good_app, "--seed", "2", "--only", "outcomes")
    assert quiet.returncode == 0
    assert quiet.stderr == ""


def test_an_unreachable_service_fails_fast_with_exit_1() -> None:
    url = f"http://127.0.0.1:{free_port()}/voice"
    result = atsim(url, "--wait", "0.5", "--json", timeout=60)
    assert result.returncode == 1
    assert "nothing accepted connections" in result.stderr
    report = json.loads(result.stdout)
    assert report["problems"][0]["check"] == "reachable"
    assert report["counts"]["scenarios"] == 1


def test_a_redirect_no_request_can_follow_fails_with_exit_1() -> None:
    with serve_wsgi(RedirectToImpossiblePort()) as url:
        result = atsim(url + "/voice", "--seed", "1", "--only", "crawl", "--quick")
    assert result.returncode == 1, result.stdout
    assert "ERROR [actionxml-valid]" in result.stdout
    assert "`Redirect` text must have a port from 1 to 65535" in result.stdout
    assert "could not be sent" not in result.stderr  # the engine saw no exception


def test_callback_and_events_urls_of_any_layout_and_headers(tmp_path: Path) -> None:
    seen: list[str] = []

    class HeaderCheckingApp(IvrApp):
        def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
            seen.append(environ.get("HTTP_X_API_KEY", ""))
            return super().__call__(environ, start_response)

    with serve_wsgi(HeaderCheckingApp()) as url:
        result = atsim(
            "--callback-url", f"{url}/voice/instruct", "--events-url", f"{url}/voice/events",
            "--header", "X-Api-Key: s3cret", "--seed", "1", "--only", "outcomes",
        )  # fmt: skip
    assert result.returncode == 0, result.stdout
    assert seen and set(seen) == {"s3cret"}
    assert "s3cret" not in result.stdout
