"""The contract ``atsim verify`` holds every answer to, as data plus one pure judge.

Each :class:`Check` has a stable identifier (used in the JSON output and as JUnit test case
names), the roles of request it applies to, and what it asserts. :func:`judge` looks at one
exchange and returns a :class:`Finding` for every check it breaks; it does no I/O, so the
checks are the same whether the app ran in-process or across the network.

ActionXML is judged by the grammar's verdicts (``contracts/actionxml/problems.py``): a rule
whose breach stops the app working on AT is an error, one AT most plausibly lives with (Reject
after other actions, as AT's own example app answers; actions after a Redirect; an odd voice)
a warning. What is *not* a problem at all (no false alarms on a correct service): an empty
body answering the final notification or any later request of a call (AT hangs up), any 2xx
body from the events URL, ``<Response/>`` after the first answer, AT's alternative attribute
spellings.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from at_voice_kit.contracts.actionxml import Problem, Redirect, Response, Rule, parse

# One scale for every verdict of the kit: the grammar's (errors fail the run; warnings are
# reported and fail it only with ``--strict``). Re-exported: findings carry it.
from at_voice_kit.contracts.actionxml import Severity as Severity
from at_voice_kit.simulator.verify.exchanges import Answer, Exchange, Origin, Role


class Check(StrEnum):
    """Stable identifiers of the checks."""

    REACHABLE = "reachable"
    ANSWERED_IN_TIME = "answered-in-time"
    STATUS_2XX = "status-2xx"
    ACTIONXML_VALID = "actionxml-valid"
    NOTHING_AFTER_TERMINAL = "nothing-after-terminal"
    FIRST_ANSWER_ACTIONABLE = "first-answer-actionable"
    CALL_PROGRESSES = "call-progresses"
    FINAL_NOTIFICATION_2XX = "final-notification-2xx"
    EVENTS_2XX = "events-2xx"
    CONTENT_TYPE = "content-type"
    ANSWERED_QUICKLY = "answered-quickly"


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """One check: what it asserts and which requests it applies to."""

    check: Check
    asserts: str
    roles: frozenset[Role]


_ALL = frozenset(Role)
_CALL = frozenset({Role.FIRST, Role.LIVE})

CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec(Check.REACHABLE, "every URL accepts the connection and answers", _ALL),
    CheckSpec(Check.ANSWERED_IN_TIME, "every answer arrives within AT's timeout", _ALL),
    CheckSpec(Check.STATUS_2XX, "requests of a live call are answered 2xx", _CALL),
    CheckSpec(
        Check.ACTIONXML_VALID,
        "answers to a live call are ActionXML AT can carry out (oddities AT lives with: warnings)",
        _CALL,
    ),
    CheckSpec(
        Check.NOTHING_AFTER_TERMINAL,
        "no action follows a terminal action, Reject stands alone (warnings: AT lives with it)",
        _CALL,
    ),
    CheckSpec(
        Check.FIRST_ANSWER_ACTIONABLE,
        "the first answer gives the caller something to hear or do",
        frozenset({Role.FIRST}),
    ),
    CheckSpec(Check.CALL_PROGRESSES, "a call does not loop without end (Redirect loops)", _CALL),
    CheckSpec(
        Check.FINAL_NOTIFICATION_2XX,
        "the final notification is answered 2xx",
        frozenset({Role.FINAL}),
    ),
    CheckSpec(Check.EVENTS_2XX, "the events URL answers 2xx", frozenset({Role.EVENT})),
    CheckSpec(Check.CONTENT_TYPE, "ActionXML is not labelled as JSON or HTML (warning)", _CALL),
    CheckSpec(Check.ANSWERED_QUICKLY, "answers take under half of AT's timeout (warning)", _ALL),
)
"""Every check, in the order reports list them."""

CHECK_SPECS = {spec.check: spec for spec in CHECKS}

TERMINAL_RULES = frozenset({Rule.AFTER_TERMINAL, Rule.REJECT_NOT_ALONE})
"""Grammar rules reported under ``nothing-after-terminal`` rather than ``actionxml-valid``."""

MISLABELLED_MEDIA_TYPES = frozenset({"application/json", "text/html", "application/xhtml+xml"})
"""Content types that say the body is something other than ActionXML (AT's samples use
``text/plain``; ``application/xml`` and ``text/xml`` are honest too)."""

ROLE_PHRASE = {
    Role.FIRST: "the first request of a call",
    Role.LIVE: "a request during a call",
    Role.FINAL: "the final notification",
    Role.EVENT: "an events-URL notification",
}

_STATUS_CHECK = {
    Role.FIRST: Check.STATUS_2XX,
    Role.LIVE: Check.STATUS_2XX,
    Role.FINAL: Check.FINAL_NOTIFICATION_2XX,
    Role.EVENT: Check.EVENTS_2XX,
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One broken check on one exchange.

    ``key`` groups the same problem across requests and scenarios (the report shows each
    group once, with one request to reproduce it); ``headline`` describes the group and
    ``detail`` this occurrence. ``problem`` is the grammar's record for ActionXML findings.
    """

    check: Check
    severity: Severity
    key: str
    headline: str
    detail: str
    exchange: Exchange
    problem: Problem | None = None


def judge(exchange: Exchange, *, timeout: float) -> tuple[Finding, ...]:
    """Every check ``exchange`` breaks (``timeout``: AT's, in seconds).

    A request AT would never send (``exchange.probe``) is a robustness probe: what it finds is
    a warning, and refusing it with a 4xx is no problem at all.
    """
    answer = exchange.answer
    findings = _transport_findings(exchange, timeout)
    if answer.status is not None and not answer.is_2xx:
        if exchange.probe is None or not 400 <= answer.status < 500:
            findings.append(_status_finding(exchange))
    elif answer.status is not None and exchange.role.expects_actionxml:
        findings.extend(_actionxml_findings(exchange))
    if exchange.probe is not None:
        return tuple(_as_probe(finding, exchange.probe) for finding in findings)
    return tuple(findings)


def _as_probe(finding: Finding, reason: str) -> Finding:
    """A finding on a request AT never sends: a warning, grouped apart from AT's traffic."""
    severity = Severity.WARNING if finding.severity is Severity.ERROR else finding.severity
    return replace(
        finding,
        severity=severity,
        key=f"probe|{finding.key}",
        headline=f"Robustness probe: {finding.headline}",
    )


def _finding(
    exchange: Exchange,
    check: Check,
    key: str,
    headline: str,
    detail: str,
    *,
    severity: Severity = Severity.ERROR,
    problem: Problem | None = None,
) -> Finding:
    return Finding(check, severity, key, headline, detail, exchange, problem)


def _transport_findings(exchange: Exchange, timeout: float) -> list[Finding]:
    answer, role = exchange.answer, exchange.role
    where = ROLE_PHRASE[role]
    if answer.timed_out:
        return [
            _finding(
                exchange,
                Check.ANSWERED_IN_TIME,
                role.value,
                f"No answer within AT's {timeout:g} s timeout to {where}",
                answer.error or "timed out",
            )
        ]
    if answer.status is None:
        reason = answer.error or "no answer"
        return [
            _finding(
                exchange,
                Check.REACHABLE,
                f"{role.value}|{reason.split(':')[0]}",
                f"Could not get an answer to {where}",
                reason,
            )
        ]
    if answer.elapsed > timeout / 2:
        return [
            _finding(
                exchange,
                Check.ANSWERED_QUICKLY,
                role.value,
                f"Slow answer to {where}: over half of AT's {timeout:g} s timeout",
                f"answered in {answer.elapsed:.2f} s",
                severity=Severity.WARNING,
            )
        ]
    return []


def _status_finding(exchange: Exchange) -> Finding:
    answer, role = exchange.answer, exchange.role
    status = answer.status
    assert status is not None
    where = ROLE_PHRASE[role]
    if 300 <= status < 400:
        headline = f"HTTP {status} (a redirect) answering {where}: AT does not follow redirects"
    else:
        headline = f"HTTP {status} answering {where}"
    return _finding(
        exchange,
        _STATUS_CHECK[role],
        f"{role.value}|{status}",
        headline,
        f"HTTP {status}: {_excerpt(answer.body)}" if answer.body.strip() else f"HTTP {status}",
    )


def _actionxml_findings(exchange: Exchange) -> list[Finding]:
    answer = exchange.answer
    call_start = exchange.role is Role.FIRST and exchange.origin is not Origin.GENERATED
    if not answer.body.strip():
        return [_silent_first_answer(exchange, "an empty body")] if call_start else []
    result = parse(answer.body)
    findings = [_problem_finding(exchange, problem) for problem in result.problems]
    executable = result.executable
    if executable is not None:
        # Only for a document AT can carry out: one with errors already has its finding.
        if call_start and not executable.actions and result.works_on_at:
            findings.append(_silent_first_answer(exchange, "a <Response> with no actions"))
        findings.extend(_content_type_findings(exchange))
    return findings


def _problem_finding(exchange: Exchange, problem: Problem) -> Finding:
    """A broken grammar rule, as severe as the grammar's verdict on it."""
    terminal = problem.rule in TERMINAL_RULES
    check = Check.NOTHING_AFTER_TERMINAL if terminal else Check.ACTIONXML_VALID
    attribute = f" `{problem.attribute}`" if problem.attribute else ""
    return _finding(
        exchange,
        check,
        f"{problem.rule}|{problem.path}|{problem.attribute or ''}",
        f"{problem.path}{attribute}: {problem.message} [{problem.rule}]",
        f"{problem}",
        severity=problem.severity,
        problem=problem,
    )


def _silent_first_answer(exchange: Exchange, what: str) -> Finding:
    return _finding(
        exchange,
        Check.FIRST_ANSWER_ACTIONABLE,
        "silent",
        "The first answer of a call gives the caller nothing to hear or do (AT hangs up)",
        f"answered {what}",
    )


def _content_type_findings(exchange: Exchange) -> list[Finding]:
    media_type = media_type_of(exchange.answer)
    if media_type not in MISLABELLED_MEDIA_TYPES:
        return []
    return [
        _finding(
            exchange,
            Check.CONTENT_TYPE,
            media_type,
            f"ActionXML served as {media_type} (AT's docs answer text/plain; AT's own example "
            "app answers text/html, which works)",
            f"Content-Type: {exchange.answer.content_type}",
            severity=Severity.WARNING,
        )
    ]


def media_type_of(answer: Answer) -> str | None:
    """The media type of an answer's ``Content-Type``, lower case, without parameters."""
    if answer.content_type is None:
        return None
    return answer.content_type.split(";", 1)[0].strip().lower() or None


def passes_first_role_on(body: str) -> bool:
    """True when a first answer only redirects: the caller hears the Redirect target's answer,
    so that answer is the one that must give them something (judged on what AT carries out)."""
    result = parse(body) if body.strip() else None
    response: Response | None = result.executable if result is not None else None
    return (
        response is not None
        and bool(response.actions)
        and isinstance(response.actions[0], Redirect)
    )


def _excerpt(body: str, limit: int = 160) -> str:
    text = " ".join(body.split())
    if not text:
        return "(empty body)"
    return text if len(text) <= limit else text[: limit - 3] + "..."
