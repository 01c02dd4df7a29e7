"""Running one scenario: a simulated call through the engine, or a series of direct requests,
with every answer judged.

Each simulated call gets its own engine and virtual clock, and a callee directory that plays
the scenario's phone user and makes every dialled number answer (or not), so a call's course
depends only on its scenario, its seed and the app's answers. The engine reads each answer as
AT most plausibly carries it out (:func:`carried_out`), so a problem in one answer (reported
by the checks) does not stop the call, nor hide the branches behind it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from at_voice_kit.contracts.actionxml import ParseResult, parse
from at_voice_kit.contracts.vocabulary import Direction, HangupCause
from at_voice_kit.simulator.engine import CallEngine, EngineOptions, EnginePorts, VirtualClock
from at_voice_kit.simulator.engine.callee import CalleeAnswer, CalleeScript
from at_voice_kit.simulator.engine.memory import InMemoryJournal, InMemoryQueues
from at_voice_kit.simulator.engine.outcomes import DEFAULT_RULES, OutcomeDistribution
from at_voice_kit.simulator.engine.ports import ParsedActionXml
from at_voice_kit.simulator.engine.recordings import RecordingStore
from at_voice_kit.simulator.verify.checks import CHECKS, Check, Finding, Severity, judge
from at_voice_kit.simulator.verify.exchanges import Exchange, Role, SentRequest
from at_voice_kit.simulator.verify.options import VerifyOptions
from at_voice_kit.simulator.verify.progress import Progress
from at_voice_kit.simulator.verify.recorder import ScenarioRecorder
from at_voice_kit.simulator.verify.results import ScenarioResult
from at_voice_kit.simulator.verify.run_guard import RunGuard
from at_voice_kit.simulator.verify.scenarios import (
    CallScenario,
    RequestScenario,
    Scenario,
    Unreached,
    session_id_for,
)
from at_voice_kit.simulator.verify.transport import Poster, Target

LEG_ANSWERS = CalleeScript(answer=CalleeAnswer.ANSWERED, hangup_after=20.0)
"""A dialled number that picks up and talks for 20 s."""
LEG_DOES_NOT_ANSWER = CalleeScript(answer=CalleeAnswer.NO_ANSWER)


class ScenarioCallees:
    """The callee directory of one call: the phone user's script, and the dialled numbers
    all answering or none."""

    def __init__(self, phone_number: str, caller: CalleeScript, *, legs_answer: bool) -> None:
        self.phone_number = phone_number
        self.caller = caller
        self.legs = LEG_ANSWERS if legs_answer else LEG_DOES_NOT_ANSWER

    def script_for(self, number: str) -> CalleeScript:
        """The caller's script for the phone user, the leg script for anyone dialled."""
        return self.caller if number == self.phone_number else self.legs


def forced_outcomes(answer: CalleeAnswer, cause: HangupCause) -> OutcomeDistribution:
    """The outcome table with ``answer`` always ending in ``cause``."""
    rules = tuple(
        replace(rule, causes=((cause, 1.0),)) if rule.answer is answer else rule
        for rule in DEFAULT_RULES
    )
    return OutcomeDistribution(rules)


def carried_out(document: str) -> ParsedActionXml:
    """What AT would carry out of an answer, as the engine's parse port: the grammar's
    executable actions, standing for the document, whatever rules it breaks (the checks
    report those). A document AT cannot read at all (not XML, no ``Response``) stays as
    parsed: the engine ends the call on it, as AT does."""
    result = parse(document)
    if result.executable is None:
        return result
    return ParseResult(result.executable, (), result.notes, result.executable)


@dataclass
class RunContext:
    """What every scenario of one run shares; ``unreached`` gathers what the run did not
    explore, each once."""

    target: Target
    options: VerifyOptions
    seed: int
    poster: Poster
    recordings: RecordingStore
    progress: Progress
    slots: asyncio.Semaphore
    remaining: int | None
    guard: RunGuard
    unreached: dict[str, Unreached] = field(default_factory=dict)

    def not_explored(self, key: str, unreached: Unreached) -> None:
        """Note a part of the app the run did not explore (once per ``key``)."""
        self.unreached.setdefault(key, unreached)

    def take(self, scenarios: Sequence[Scenario]) -> list[Scenario]:
        """As many of ``scenarios`` as ``--max-scenarios`` still allows."""
        if self.remaining is None:
            return list(scenarios)
        taken = list(scenarios[: self.remaining])
        self.remaining -= len(taken)
        return taken


async def run_call(context: RunContext, scenario: CallScenario) -> ScenarioResult:
    """Run one simulated call to its end and judge every request it made."""
    started = time.perf_counter()
    recorder = ScenarioRecorder(context.poster, context.guard, scenario.id)
    engine = _engine_for(context, scenario, recorder)
    target, at_number = context.target, context.options.at_number
    session_id = session_id_for(context.seed, scenario.id)
    if scenario.direction is Direction.OUTBOUND:
        live = engine.place_call(
            scenario.phone_number, at_number, target.callback_url,
            events_url=target.events_url, client_request_id=scenario.client_request_id,
            session_id=session_id,
        )  # fmt: skip
    else:
        live = engine.dial_in(
            scenario.phone_number, at_number, target.callback_url,
            events_url=target.events_url, session_id=session_id,
        )  # fmt: skip
    record = await live.result()
    ending = record.ending
    exchanges = recorder.ordered()
    findings = _judged(context, exchanges)
    if recorder.stopped_after is not None:
        findings.append(_looping(recorder.stopped_after))
    return ScenarioResult(
        scenario,
        exchanges,
        tuple(findings),
        _checks_applied(scenario, exchanges),
        time.perf_counter() - started,
        f"{ending.state}/{ending.status}/{ending.cause}: {record.end_reason}",
    )


def _engine_for(
    context: RunContext, scenario: CallScenario, recorder: ScenarioRecorder
) -> CallEngine:
    """An engine of its own for one call: its ports, its virtual clock, its outcome table."""
    outcomes = (
        forced_outcomes(scenario.caller.answer or CalleeAnswer.NO_ANSWER, scenario.forced_cause)
        if scenario.forced_cause is not None
        else EngineOptions().outcomes
    )
    options = EngineOptions(
        webhook_timeout=context.options.timeout,
        outcomes=outcomes,
        event_faults=scenario.event_faults,
    )
    ports = EnginePorts(
        recorder,
        InMemoryJournal(),
        InMemoryQueues(),
        ScenarioCallees(scenario.phone_number, scenario.caller, legs_answer=scenario.legs_answer),
        context.recordings,
        parse=carried_out,
    )
    seed = f"{context.seed}/{scenario.id}"
    return CallEngine(ports, clock=VirtualClock(), seed=seed, options=options)


async def run_requests(context: RunContext, scenario: RequestScenario) -> ScenarioResult:
    """Send a scenario's requests (events only when the target has an events URL)."""
    started = time.perf_counter()
    recorder = ScenarioRecorder(context.poster, context.guard, scenario.id)
    batch: list[tuple[Role, SentRequest]] = []
    for planned in scenario.requests:
        url = (
            context.target.events_url if planned.role is Role.EVENT else context.target.callback_url
        )
        if url is None:
            continue
        item = (planned.role, SentRequest(url, planned.fields))
        if planned.with_previous and batch:
            batch.append(item)
            continue
        if batch:
            await recorder.send_together(batch, scenario.origin)
        batch = [item]
    if batch:
        await recorder.send_together(batch, scenario.origin)
    exchanges = recorder.ordered()
    return ScenarioResult(
        scenario,
        exchanges,
        tuple(_judged(context, exchanges)),
        _checks_applied(scenario, exchanges),
        time.perf_counter() - started,
    )


def _judged(context: RunContext, exchanges: Sequence[Exchange]) -> list[Finding]:
    return [f for exchange in exchanges for f in judge(exchange, timeout=context.options.timeout)]


def _looping(last: Exchange) -> Finding:
    return Finding(
        Check.CALL_PROGRESSES,
        Severity.ERROR,
        "loop",
        "The call never ends: the app keeps answering without the caller doing anything "
        "(a Redirect loop?)",
        f"stopped after request {last.index}",
        last,
    )


def _checks_applied(scenario: Scenario, exchanges: Sequence[Exchange]) -> tuple[Check, ...]:
    roles = {exchange.role for exchange in exchanges}
    return tuple(
        spec.check
        for spec in CHECKS
        if spec.roles & roles
        and (spec.check is not Check.CALL_PROGRESSES or isinstance(scenario, CallScenario))
    )
