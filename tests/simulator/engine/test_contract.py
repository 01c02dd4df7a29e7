"""Every request the engine sends validates against ``contracts/service.yaml``.

The service is tested against the same contract, so the simulator and the service cannot
drift apart. Hypothesis drives calls over seeds, outcomes, scripts and app answers.
"""

from __future__ import annotations

from collections.abc import Mapping

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from at_voice_kit.contracts.service_contract import FormRules, form_rules
from at_voice_kit.contracts.wire import CallStartTimeSeparator
from at_voice_kit.simulator.engine import EngineOptions, EventFaults
from at_voice_kit.simulator.engine.callee import CalleeAnswer
from at_voice_kit.simulator.engine.ports import WebhookKind
from tests.simulator.engine.harness import USER, EngineHarness
from tests.simulator.engine.test_call_properties import AGENT, DOCUMENTS, FAULTS, scripted_app


def violations(form: Mapping[str, str], rules: FormRules) -> list[str]:
    found = [f"missing {name}" for name in rules.required - set(form)]
    if len(form) > rules.max_fields:
        found.append(f"{len(form)} fields > {rules.max_fields}")
    for name, value in form.items():
        rule = rules.fields.get(name)
        if rule is None:
            if not rules.field_name.search(name):
                found.append(f"field name {name!r}")
            rule = rules.extra_field
        if not rule.accepts(value):
            found.append(f"{name}={value!r}")
    return found


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    answer=st.sampled_from(list(CalleeAnswer)),
    digits=st.lists(st.text(alphabet="0123456789*#", max_size=5), max_size=3),
    agent_answer=st.sampled_from(list(CalleeAnswer)),
    replies=st.lists(
        st.one_of(st.sampled_from(DOCUMENTS), st.sampled_from(FAULTS)), min_size=1, max_size=5
    ),
    inbound=st.booleans(),
    separator=st.sampled_from(list(CallStartTimeSeparator)),
)
def test_every_request_keeps_the_service_contract(
    seed: int,
    answer: CalleeAnswer,
    digits: list[str],
    agent_answer: CalleeAnswer,
    replies: list[object],
    inbound: bool,
    separator: CallStartTimeSeparator,
) -> None:
    faults = EventFaults(duplicate_probability=0.2, reorder_probability=0.2)
    h = EngineHarness(seed=seed, options=EngineOptions(separator=separator, event_faults=faults))
    h.script(USER, answer=answer.value, digits=digits)
    h.script(AGENT, answer=agent_answer.value)
    h.app(scripted_app(replies))
    record = h.dial_in() if inbound else h.call(client_request_id=f"req-{seed}")
    callback_rules, event_rules = form_rules("CallbackForm"), form_rules("EventForm")
    exchanges = h.journal.for_session(record.session_id)
    assert exchanges
    for exchange in exchanges:
        form = exchange.request.form()
        rules = callback_rules if exchange.request.kind is WebhookKind.CALLBACK else event_rules
        assert violations(form, rules) == [], form


def test_the_checker_catches_contract_breaks() -> None:
    rules = form_rules("CallbackForm")
    broken = {"sessionId": "ATVId_x", "destinationNumber": "+254711082000", "bad name!": "x",
              "direction": "Sideways", "callStartTime": "2025-02-30 10:00:00"}  # fmt: skip
    found = violations(broken, rules)
    assert "missing callerNumber" in found
    assert "direction='Sideways'" in found
    assert "callStartTime='2025-02-30 10:00:00'" in found
    assert "field name 'bad name!'" in found
