"""What verify sends: every hangup cause, every eventType in every order, optional fields
absent, generated forms; every request one the contract allows; all of it repeatable."""

from __future__ import annotations

import itertools
import re
from collections import Counter

from at_voice_kit.contracts.service_contract import form_rules
from at_voice_kit.contracts.vocabulary import SERVICE_DOC_HANGUP_CAUSES, EventType, HangupCause
from at_voice_kit.simulator.engine.session_ids import SESSION_ID
from at_voice_kit.simulator.verify import Category, Role, Target, VerifyOptions, verify
from at_voice_kit.simulator.verify.catalogue import Parties
from at_voice_kit.simulator.verify.event_orders import LIFECYCLES, event_order_scenarios, orders
from at_voice_kit.simulator.verify.generated import draw_forms
from at_voice_kit.simulator.verify.report import VerifyReport
from at_voice_kit.simulator.verify.variants import UNDOCUMENTED_CAUSE, optional_field_scenarios
from tests.simulator.verify.webhook_apps import IvrApp

PARTIES = Parties("+254711082000", "+254711082369")
LOCAL = re.compile(r"127\.0\.0\.1:\d+/[\w-]+/recordings")
"""Where a run serves its recordings: a fresh port, and a secret of the run's own."""


def run(*categories: Category, seed: int = 21, quick: bool = False) -> VerifyReport:
    options = VerifyOptions(seed=seed, quick=quick, categories=frozenset(categories))
    return verify(Target.in_process(IvrApp(), "/voice"), options)


def requests_of(report: VerifyReport, role: Role) -> list[dict[str, str]]:
    return [
        dict(exchange.request.fields)
        for result in report.results
        for exchange in result.exchanges
        if exchange.role is role
    ]


def test_every_hangup_cause_reaches_the_final_notification() -> None:
    report = run(Category.OUTCOMES)
    assert report.ok, report.summary()
    # An answered call's final request names no cause (AT's payloads); the others all do.
    finals = [form for form in requests_of(report, Role.FINAL) if "hangupCause" in form]
    causes = {form["hangupCause"] for form in finals}
    # NORMAL_CLEARING ends answered calls, whose final request names no cause.
    documented = {cause.value for cause in HangupCause} - {"NORMAL_CLEARING"}
    assert causes == documented | SERVICE_DOC_HANGUP_CAUSES | {UNDOCUMENTED_CAUSE}
    for form in finals:
        if form["hangupCause"] != "NORMAL_CLEARING" and form["direction"] == "Outbound":
            assert form["callStartTime"] == "None"
            assert form["callSessionState"] == "NotAnswered"
            assert form["durationInSeconds"] == "0" and form["amount"] == "0"
    cancelled = next(f for f in finals if f["hangupCause"] == "ORIGINATOR_CANCEL"
                     and f["direction"] == "Inbound")  # fmt: skip
    assert cancelled["status"] == "NotAnswered"


def test_every_event_type_is_delivered_in_every_order_and_twice() -> None:
    scenarios = event_order_scenarios(1, PARTIES)
    delivered = {dict(request.fields)["eventType"] for s in scenarios for request in s.requests}
    assert delivered == {event.value for event in EventType}
    answered = [s for s in scenarios if s.id.startswith("event-orders/answered/order-")]
    sequences = {tuple(dict(r.fields)["eventType"] for r in s.requests) for s in answered}
    natural = next(life for life in LIFECYCLES if life.name == "answered").events
    assert sequences == {tuple(e.value for e in p) for p in itertools.permutations(natural)}
    twice = next(s for s in scenarios if s.id == "event-orders/queued/each-twice")
    assert all(count == 2 for count in Counter(r.fields for r in twice.requests).values())
    racing = next(s for s in scenarios if s.id == "event-orders/queued/each-twice-at-once")
    assert [r.with_previous for r in racing.requests] == [False, True] * 5
    # Each scenario is its own call.
    session_ids = {dict(s.requests[0].fields)["sessionId"] for s in scenarios}
    assert len(session_ids) == len(scenarios)


def test_long_lifecycles_get_every_one_event_move_and_quick_runs_fewer() -> None:
    five = list(orders(5))
    assert len(five) == len(set(five)) and five[0] == (0, 1, 2, 3, 4)
    assert (4, 3, 2, 1, 0) in five and (4, 0, 1, 2, 3) in five and (1, 2, 3, 4, 0) in five
    assert len(list(orders(4))) == 24
    assert len(list(orders(4, quick=True))) == 3


def test_optional_fields_are_left_out_one_at_a_time_required_ones_never() -> None:
    callback_required = form_rules("CallbackForm").required
    for scenario in optional_field_scenarios(1, PARTIES):
        if not scenario.id.startswith("optional-fields/without-"):
            continue
        name = scenario.id.removeprefix("optional-fields/without-")
        for request in scenario.requests:
            keys = {key for key, _ in request.fields}
            if request.role is Role.EVENT or name not in callback_required:
                assert name not in keys, (scenario.id, request.fields)
            assert "sessionId" in keys
    minimal = next(
        s for s in optional_field_scenarios(1, PARTIES) if s.id == "optional-fields/only-required"
    )
    first = dict(minimal.requests[0].fields)
    assert minimal.requests[0].role is Role.FIRST
    assert set(first) == {"sessionId", "callerNumber", "destinationNumber", "isActive"}


def test_every_request_verify_sends_is_one_the_contract_allows() -> None:
    """verify must not raise false alarms by sending what AT never could."""
    report = run(*Category, quick=True)
    assert report.ok, report.summary()
    rules = {Role.EVENT: form_rules("EventForm")}
    for result in report.results:
        for exchange in result.exchanges:
            form = rules.get(exchange.role, form_rules("CallbackForm"))
            fields = dict(exchange.request.fields)
            assert form.required <= set(fields), (result.id, fields)
            for name, value in fields.items():
                rule = form.fields.get(name, form.extra_field)
                assert rule.accepts(value), (result.id, name, value)


def test_session_ids_look_like_ats_and_a_seed_repeats_a_run_exactly() -> None:
    first = run(Category.CRAWL, Category.OUTCOMES, Category.OPTIONAL_FIELDS, seed=5)
    again = run(Category.CRAWL, Category.OUTCOMES, Category.OPTIONAL_FIELDS, seed=5)
    other = run(Category.CRAWL, Category.OUTCOMES, Category.OPTIONAL_FIELDS, seed=6)

    def sent(report: VerifyReport) -> list[tuple[str, str, tuple[tuple[str, str], ...]]]:
        # Callbacks are in order, and events are; how the two interleave depends on how fast
        # the app answers (events go out in the background, as on AT). Recordings are served
        # on a fresh port, under a secret path, each run. Everything else is the seed's.
        return [
            (r.id, e.role.kind.value, tuple((k, LOCAL.sub("HOST", v)) for k, v in e.request.fields))
            for r in report.results
            for kind in ("callback", "event")
            for e in r.exchanges
            if e.role.kind.value == kind
        ]

    def sessions(report: VerifyReport) -> set[str]:
        return {dict(fields)["sessionId"] for _, _, fields in sent(report)}

    assert sent(first) == sent(again)
    assert all(SESSION_ID.match(s) for s in sessions(first))
    assert not sessions(first) & sessions(other)


def test_generated_forms_follow_the_contract_and_the_seed() -> None:
    callback = draw_forms("callback", 3, 25)
    assert len(callback) == 25 and callback == draw_forms("callback", 3, 25)
    assert callback != draw_forms("callback", 4, 25)
    rules = form_rules("CallbackForm")
    for form in callback:
        fields = dict(form)
        assert rules.required <= set(fields)
        assert all(rules.fields.get(k, rules.extra_field).accepts(v) for k, v in fields.items())
    events = draw_forms("event", 3, 25)
    assert all("sessionId" in dict(form) for form in events)


def test_events_are_only_sent_when_there_is_an_events_url() -> None:
    options = VerifyOptions(seed=2, quick=True)
    report = verify(Target.in_process(IvrApp(), "/voice", events=False), options)
    assert report.ok, report.summary()
    assert not requests_of(report, Role.EVENT)
    assert not {Category.EVENT_ORDERS, Category.EVENT_DELIVERY} & {
        r.category for r in report.results
    }


def test_max_scenarios_caps_the_run_and_says_so() -> None:
    options = VerifyOptions(seed=2, quick=True, max_scenarios=20)
    report = verify(Target.in_process(IvrApp(), "/voice"), options)
    assert len(report.results) == 20
    assert any("were not run (--max-scenarios 20)" in note for note in report.notes)
