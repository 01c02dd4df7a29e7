"""What the simulator keeps of untrusted bodies is bounded: the journal (webhook answers, API
requests), a call's timeline, and ``atsim verify``'s report keep the start of each body with
its size, and a call that never ends keeps its first and latest entries.

Issue 14: every webhook answer was kept whole (a 1 KB gzip answer unpacks to 999 KB): 59 MB
grew to 1.2 GB over 200 calls. The process-level measure is ``test_memory_bounds_e2e.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from at_voice_kit.simulator.backend.journal import ApiExchange, Journal
from at_voice_kit.simulator.backend.platform_config import SimulatorConfig
from at_voice_kit.simulator.engine.ports import WebhookExchange, WebhookRequest, WebhookResult
from at_voice_kit.simulator.engine.previews import (
    NOTE_CHARS,
    PREVIEW_CHARS,
    HeadAndTail,
    bounded_fields,
)
from at_voice_kit.simulator.verify import Category, Target, VerifyOptions, verify
from tests.simulator.engine.harness import APP, USER, EngineHarness, xml
from tests.simulator.simulator_client import KE_NUMBERS, InProcessSimulator

MOMENT = datetime(2025, 9, 29, 10, 30, tzinfo=UTC)
MEGABYTE_ANSWER = "<Response/>" + " " * 999_000


def webhook(
    body: str, url: str = "http://127.0.0.1:1/cb", note: str | None = None
) -> WebhookExchange:
    return WebhookExchange(
        WebhookRequest(url, (("isActive", "1"),)), WebhookResult(200, body), MOMENT, note
    )


def test_the_journal_keeps_the_start_of_a_webhook_answer_and_its_size() -> None:
    journal = Journal(threading.RLock())
    journal.record_webhook("ATVId_x", webhook(MEGABYTE_ANSWER, "http://app.test/" + "r" * 9000))
    (kept,) = journal.webhooks_for("ATVId_x")
    assert kept.result.body == MEGABYTE_ANSWER[:PREVIEW_CHARS]
    assert kept.result.body_size == len(MEGABYTE_ANSWER)
    assert kept.result.body_truncated
    assert len(kept.request.url) < PREVIEW_CHARS + 100


def test_a_call_keeps_its_first_and_latest_webhooks() -> None:
    journal = Journal(threading.RLock())
    for index in range(350):
        journal.record_webhook("ATVId_x", webhook(f"answer {index}"))
    kept = [exchange.result.body for exchange in journal.webhooks_for("ATVId_x")]
    assert kept == [f"answer {i}" for i in (*range(100), *range(250, 350))]
    assert journal.left_out_for("ATVId_x") == (0, 150)


def api_request(index: int, body: str = "OK", **form: str) -> ApiExchange:
    return ApiExchange(
        "POST", "/call", {"host": "sim"}, form, 200, "application/json", body, MOMENT, 0.0,
        session_ids=("ATVId_x",),
    )  # fmt: skip


def test_api_requests_keep_bounded_forms_and_answers() -> None:
    journal = Journal(threading.RLock())
    recorded = journal.record_api_request(
        api_request(1, body="y" * 50_000, clientRequestId="x" * 100_000, to="+254711082001")
    )
    assert recorded.form_truncated and not recorded.headers_truncated
    assert sum(len(k) + len(v) for k, v in recorded.form.items()) <= PREVIEW_CHARS
    assert (len(recorded.body), recorded.body_size) == (PREVIEW_CHARS, 50_000)


def test_the_api_journal_drops_its_oldest_requests_past_its_character_budget() -> None:
    journal = Journal(threading.RLock(), max_api_characters=20_000)
    for index in range(10):
        journal.record_api_request(api_request(index, body=str(index) * 4000))
    kept = journal.api_requests()
    assert [r.body[0] for r in kept] == ["6", "7", "8", "9"]
    # The call the requests named keeps its own first and latest, whatever the budget.
    assert len(journal.api_requests_for("ATVId_x")) == 10


def test_the_admin_api_says_what_was_cut() -> None:
    sim = InProcessSimulator(SimulatorConfig(seed=4))
    headers = {f"X-Filler-{i}": "h" * 100 for i in range(60)}
    answer = sim.post("/call", {"username": "sandbox", "from": "+254711082000",
                                "to": KE_NUMBERS[0], "clientRequestId": "c" * 200_000})  # fmt: skip
    assert answer.status_code == 200, answer.text
    sim.client.simulate_post("/queueStatus", headers=headers, body="")
    call_request, status_request = sim.admin("GET", "requests").json["requests"]
    assert call_request["formTruncated"] and not call_request["headersTruncated"]
    assert status_request["headersTruncated"]
    assert call_request["bodySize"] == len(answer.text) and not call_request["bodyTruncated"]
    session_id = call_request["sessionIds"][0]
    sim.backend.journal.record_webhook(session_id, webhook(MEGABYTE_ANSWER))
    detail = sim.admin("GET", f"calls/{session_id}").json
    (shown,) = detail["webhooks"]
    assert (shown["bodySize"], shown["bodyTruncated"]) == (len(MEGABYTE_ANSWER), True)
    assert len(shown["body"]) == PREVIEW_CHARS
    assert (detail["requestsLeftOut"], detail["webhooksLeftOut"]) == (0, 0)


def test_a_redirect_loop_keeps_a_bounded_timeline() -> None:
    """An app that redirects for ever to a long URL, and a caller who stays 30 minutes."""
    h = EngineHarness()
    h.script(USER, answer="answered", hangupAfter=1800)
    looping = APP + "?" + "p" * 3000
    h.app(
        lambda form: "" if form.get("isActive") == "0" else xml(f"<Redirect>{looping}</Redirect>")
    )
    h.app(
        lambda form: "" if form.get("isActive") == "0" else xml(f"<Redirect>{looping}</Redirect>"),
        looping,
    )
    record = h.call(events=False)
    assert len(h.callbacks(record.session_id)) > 1000  # it looped: the bounds are needed
    assert len(record.timeline) == 200 + 1 + 100
    assert any(line.endswith("lines left out)") for _, line in record.timeline)
    assert all(len(line) <= NOTE_CHARS + 40 for _, line in record.timeline)


def test_bounded_fields_and_head_and_tail() -> None:
    assert bounded_fields([("a", "1"), ("b", "22")], limit=10) == ((("a", "1"), ("b", "22")), False)
    assert bounded_fields([("a", "1"), ("b", "2" * 20)], limit=10) == (
        (("a", "1"), ("b", "2" * 7)),
        True,
    )
    kept: HeadAndTail[int] = HeadAndTail(2, 0)
    for item in range(5):
        kept.append(item)
    assert (list(kept), kept.left_out) == ([0, 1], 3)


PAD = " " * 30_000


def padded_menu_app(environ: dict[str, Any], start: Any) -> Iterable[bytes]:
    """A menu whose answers are 30 KB (padding): 1 leads to a second menu, 2 says goodbye."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    form: Mapping[str, str] = dict(parse_qsl(environ["wsgi.input"].read(length).decode()))
    start("200 OK", [("Content-Type", "text/plain")])
    if environ["PATH_INFO"].endswith("/events") or form.get("isActive") == "0":
        return [b"OK"]
    digits = form.get("dtmfDigits")
    if digits == "1":
        body = xml('<GetDigits numDigits="1"><Say>Second menu</Say></GetDigits>', PAD)
    elif digits:
        body = xml("<Say>Goodbye</Say>", PAD)
    else:
        body = xml('<GetDigits numDigits="1"><Say>Press 1 or 2</Say></GetDigits>', PAD)
    return [body.encode()]


def test_verify_reports_keep_the_start_of_answers_and_still_crawl_them() -> None:
    options = VerifyOptions(seed=3, quick=True, categories=frozenset({Category.CRAWL}))
    report = verify(Target.in_process(padded_menu_app, "/voice"), options)
    answers = [e.answer for r in report.results for e in r.exchanges]
    assert answers and all(len(answer.body) <= PREVIEW_CHARS for answer in answers)
    assert any(answer.body_size and answer.body_size > 30_000 for answer in answers)
    # The crawl read the whole answers before they were cut: it found the second menu.
    pressed = [
        dict(e.request.fields).get("dtmfDigits") for r in report.results for e in r.exchanges
    ]
    assert "1" in pressed
    second_menu = [r for r in report.results if any(
        dict(e.request.fields).get("dtmfDigits") == "1" for e in r.exchanges)]  # fmt: skip
    assert len({r.id for r in second_menu}) > 1  # keys were tried at the second menu too
