"""Every report of ``atsim verify`` prints whatever the app answered, and none shows the
app's secrets unless ``--show-secrets``: the real console script, each output format.

Before: an app answering ``charset=unicode_escape`` (body ``\\ud800``) or ``charset=utf-7``
crashed the report with ``UnicodeEncodeError`` at the summary write, and so did any
non-ASCII answer on an ASCII terminal; the target line, the curl lines (text and JUnit) and
the JSON kept the ``?secret=`` of ``--callback-url``.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from at_voice_kit.simulator.testing.verify_fixture import run_verify
from at_voice_kit.simulator.verify import Category, Target, VerifyOptions, verify
from tests.simulator.atsim_process import atsim_command
from tests.simulator.misbehaving_apps import MisbehavingApps
from tests.simulator.verify.servers import serve_wsgi
from tests.simulator.verify.webhook_apps import CrashOnUnknownCause, IvrApp, Reply, Request

SECRET = "verify-secret-0123456789"
TOKEN = "header-token-0123456789"
OUTCOMES = ("--only", "outcomes", "--seed", "3")


def atsim_verify(*args: str, encoding: str | None = None) -> subprocess.CompletedProcess[bytes]:
    """``atsim verify ARGS``; with ``encoding``, its standard streams use it (a terminal
    that is not UTF-8)."""
    env = {**os.environ, "PYTHONIOENCODING": encoding} if encoding else None
    return subprocess.run(
        [*atsim_command(), "verify", *args],
        capture_output=True, timeout=300, check=False, env=env,
    )  # fmt: skip


@pytest.fixture(scope="module")
def apps() -> Iterator[MisbehavingApps]:
    with MisbehavingApps() as served:
        yield served


class HostileErrors(IvrApp):
    """Fails the final notification with an error page holding what terminals obey and
    ASCII cannot carry, and echoing the secret of the URL it was called on."""

    def final(self, request: Request) -> Reply:
        body = (
            f"Hitilafu: caf\u00e9 \u260e \x1b[2J\x07 forged\rline, secret {request.query['secret']}"
        )
        return Reply(body, 500)


@pytest.fixture(scope="module")
def hostile_app() -> Iterator[str]:
    with serve_wsgi(HostileErrors()) as url:
        yield url + "/voice"


def secret_urls(base: str) -> list[str]:
    return [
        "--callback-url", f"{base}/instruct?secret={SECRET}&lang=sw",
        "--events-url", f"{base}/events?secret={SECRET}",
        "--header", f"Authorization: Bearer {TOKEN}",
    ]  # fmt: skip


@pytest.mark.parametrize("fault", ["unicode-escape", "utf-7"])
@pytest.mark.parametrize("output", ["text", "text-ascii", "json", "junit"])
def test_every_report_prints_an_app_answering_in_a_codec_that_makes_surrogates(
    apps: MisbehavingApps, fault: str, output: str, tmp_path: Path
) -> None:
    args = ["--callback-url", f"{apps.url}/callback/{fault}", "--no-events", "--only", "crawl"]
    args += ["--max-scenarios", "2", "--seed", "1"]
    junit = tmp_path / "junit.xml"
    extra = {"json": ["--json"], "junit": ["--report", str(junit)]}.get(output, [])
    result = atsim_verify(*args, *extra, encoding="ascii" if output == "text-ascii" else None)
    assert b"Traceback" not in result.stderr, result.stderr.decode()
    assert result.returncode in (0, 1)
    if output == "json":
        assert json.loads(result.stdout)["counts"]["scenarios"] == 2
    elif output == "junit":
        assert etree.parse(str(junit)).getroot().tag == "testsuites"
    else:
        assert result.stdout.startswith(b"atsim verify: ")


def test_the_text_report_shows_control_characters_escaped_on_an_ascii_terminal(
    hostile_app: str,
) -> None:
    result = atsim_verify(*secret_urls(hostile_app), *OUTCOMES, encoding="ascii")
    assert result.returncode == 1, result.stderr.decode()
    text = result.stdout.decode("ascii")
    assert "body: Hitilafu: caf\\xe9 \\u260e \\x1b[2J\\x07 forged line, secret ***" in text
    assert "\x1b" not in text and "\x07" not in text


def test_no_output_shows_the_targets_secrets(hostile_app: str, tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    urls = secret_urls(hostile_app)
    text = atsim_verify(*urls, *OUTCOMES, "--report", str(junit), "--progress")
    assert text.returncode == 1
    report = text.stdout.decode()
    assert f"callback URL {hostile_app}/instruct?secret=***&lang=***, events URL" in report
    assert f"-X POST '{hostile_app}/instruct?secret=***&lang=***'" in report
    assert "-H 'Authorization: <redacted>'" in report
    as_json = atsim_verify(*urls, *OUTCOMES, "--json")
    assert json.loads(as_json.stdout)["target"]["eventsUrl"] == f"{hostile_app}/events?secret=***"
    outputs = {
        "text": report,
        "progress": text.stderr.decode(),
        "junit": junit.read_text(encoding="utf-8"),
        "json": as_json.stdout.decode(),
    }
    for name, output in outputs.items():
        assert SECRET not in output and TOKEN not in output, name
    shown = atsim_verify(*urls, *OUTCOMES, "--json", "--show-secrets")
    assert (
        json.loads(shown.stdout)["target"]["eventsUrl"] == f"{hostile_app}/events?secret={SECRET}"
    )
    assert TOKEN not in shown.stdout.decode()  # header values are never printed


def test_usage_errors_and_waiting_do_not_print_the_secret() -> None:
    refused = atsim_verify("--callback-url", f"http://127.0.0.1:99999/i?secret={SECRET}")
    assert refused.returncode == 2
    assert b"the callback URL must have a port" in refused.stderr
    assert b"?secret=***" in refused.stderr and SECRET.encode() not in refused.stderr
    header = atsim_verify("http://127.0.0.1:9/voice", "--header", f"Bearer {TOKEN}")
    assert header.returncode == 2 and TOKEN.encode() not in header.stderr
    waited = atsim_verify(
        "--callback-url", f"http://127.0.0.1:9/i?secret={SECRET}", "--wait", "0.3"
    )
    assert b"nothing accepted connections at http://127.0.0.1:9/i?secret=***" in waited.stderr
    assert SECRET.encode() not in waited.stdout + waited.stderr


def test_the_fixtures_summary_masks_secrets_unless_asked() -> None:
    options = {"quick": True, "categories": frozenset({Category.OUTCOMES})}
    app = CrashOnUnknownCause()
    callback = f"/voice/instruct?secret={SECRET}"
    masked = run_verify(app, callback_url=callback, events=False, **options)
    assert not masked.ok
    assert SECRET not in masked.summary() and "?secret=***" in masked.summary()
    assert SECRET not in json.dumps(masked.to_json()) and SECRET not in masked.to_junit()
    shown = verify(
        Target.in_process(app, callback_url=callback, events=False),
        VerifyOptions(seed=1, show_secrets=True, **options),
    )
    assert SECRET in shown.summary()
