"""The report: one entry per problem however often it happened, exact requests, JSON that
serialises, JUnit XML that stays well-formed whatever the app answered."""

from __future__ import annotations

import asyncio
import json
import shlex
from urllib.parse import parse_qsl

from lxml import etree

from at_voice_kit.contracts.vocabulary import SERVICE_DOC_HANGUP_CAUSES, HangupCause
from at_voice_kit.simulator.verify import Category, Check, Target, VerifyOptions, verify
from at_voice_kit.simulator.verify.exchanges import SentRequest
from at_voice_kit.simulator.verify.report_secrets import SecretMask
from at_voice_kit.simulator.verify.reproduce import curl_command
from at_voice_kit.simulator.verify.variants import UNDOCUMENTED_CAUSE
from tests.simulator.verify.webhook_apps import (
    SERVICE_DOC_CAUSES,
    CrashOnUnknownCause,
    IvrApp,
    Reply,
    Request,
)

OUTCOMES = frozenset({Category.OUTCOMES})


def test_one_problem_is_reported_once_with_every_occurrence() -> None:
    report = verify(
        Target.in_process(CrashOnUnknownCause(), "/voice"),
        VerifyOptions(seed=1, categories=OUTCOMES),
    )
    [problem] = report.problems()
    assert problem.check is Check.FINAL_NOTIFICATION_2XX
    forms = [dict(o.finding.exchange.request.fields) for o in problem.occurrences]
    unknown = {form["hangupCause"] for form in forms if "hangupCause" in form}
    documented = {cause.value for cause in HangupCause} | SERVICE_DOC_HANGUP_CAUSES
    assert unknown == documented - set(SERVICE_DOC_CAUSES) | {UNDOCUMENTED_CAUSE}
    # It crashes on an answered call's final request too: AT's names no cause.
    assert any("hangupCause" not in form for form in forms)
    count = len(problem.occurrences)
    assert len(problem.scenario_ids()) == count  # one final notification per scenario
    summary = report.summary()
    assert summary.count("[final-notification-2xx]") == 1
    assert f"{count} requests in {count} scenarios" in summary


class GarbageAnswers(IvrApp):
    def final(self, request: Request) -> Reply:
        return Reply("\x00\x01 <&> ]]> \ud7ff \x1b[31m", 500)


def test_junit_stays_well_formed_and_counts_add_up() -> None:
    report = verify(
        Target.in_process(GarbageAnswers(), "/voice"), VerifyOptions(seed=1, categories=OUTCOMES)
    )
    assert not report.ok
    root = etree.fromstring(report.to_junit().encode("utf-8"))
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == sum(len(r.checks) for r in report.results) == int(root.get("tests"))
    failures = [case for case in cases if case.find("failure") is not None]
    assert (
        len(failures)
        == int(root.get("failures"))
        == sum(1 for r in report.results for c in r.checks if r.failed(c))
    )
    # What XML cannot carry (and a terminal should not obey) is shown escaped, not dropped.
    assert "HTTP 500: \\x00\\x01 <&> ]]> \\ud7ff \\x1b[31m" in failures[0].find("failure").text
    for suite in root.findall("testsuite"):
        assert int(suite.get("tests")) == len(suite.findall("testcase"))


def test_json_report_serialises_and_names_every_check_of_every_scenario() -> None:
    report = verify(
        Target.in_process(GarbageAnswers(), "/voice"), VerifyOptions(seed=1, categories=OUTCOMES)
    )
    data = json.loads(json.dumps(report.to_json()))
    assert data["ok"] is False and data["counts"]["errors"] == 1
    scenario = next(s for s in data["scenarios"] if s["id"] == "outcomes/outbound/USER_BUSY")
    assert scenario["checks"]["final-notification-2xx"] == "failed"
    assert scenario["checks"]["events-2xx"] == "passed"
    assert scenario["ending"].startswith("NotAnswered/NotAnswered/USER_BUSY")
    example = data["problems"][0]["example"]
    assert example["answer"]["status"] == 500 and example["method"] == "POST"


def test_curl_commands_send_exactly_the_recorded_body() -> None:
    fields = (("sessionId", "ATVId_1"), ("callerCarrierName", "Net*One 'quoted' & more"),
              ("callStartTime", "2025-01-06+09:00:00"))  # fmt: skip
    request = SentRequest("http://127.0.0.1:8000/voice/instruct?secret=a b", fields)
    command = curl_command(request, timeout=10, headers=(("Authorization", "Bearer x"),))
    argv = shlex.split(command.replace("\\\n", " "))
    body = argv[argv.index("--data-raw") + 1]
    assert tuple(parse_qsl(body, keep_blank_values=True)) == fields
    assert "http://127.0.0.1:8000/voice/instruct?secret=a b" in argv
    assert "Authorization: <redacted>" in argv and "Bearer x" not in command


def test_verify_works_from_inside_a_running_event_loop() -> None:
    async def inside() -> bool:
        report = verify(
            Target.in_process(IvrApp(), "/voice"), VerifyOptions(seed=1, categories=OUTCOMES)
        )
        return report.ok

    assert asyncio.run(inside())


def test_the_mask_hides_the_targets_secrets_wherever_they_appear() -> None:
    mask = SecretMask.for_target(
        ("http://h/i?secret=long-secret-1&v=2", "http://u:long-password@h/e", None),
        (("Authorization", "Bearer long-token-3"),),
    )
    text = "echo long-secret-1 long-password long-token-3 v=2 at http://app/x?sig=abc"
    assert mask.text(text) == "echo *** *** *** v=2 at http://app/x?sig=***"
    assert mask.data({"url": "http://h/i?secret=long-secret-1", "n": 1, "l": ["\ud800"]}) == {
        "url": "http://h/i?secret=***",
        "n": 1,
        "l": ["\ufffd"],
    }
    shown = SecretMask.for_target(("http://h/i?secret=long-secret-1",), shown=True)
    assert shown.text("http://h/i?secret=long-secret-1") == "http://h/i?secret=long-secret-1"
