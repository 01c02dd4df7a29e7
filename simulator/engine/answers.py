"""What the app's answer to a live request means for the call: the actions to carry out, or why
the call ends as an app failure, and every problem to journal. Pure: no I/O, no clock.

AT carries a call on the way it most plausibly would (the verdict model of
:mod:`at_voice_kit.contracts.actionxml.problems`): the actions it knows run in order, an
element it does not have is skipped, and the call ends as an app failure only where AT
certainly could not go on: the answer is not XML, has no ``<Response>`` root, or is too large
(the HTTP failures, a non-2xx status, a timeout, an unreachable app, are judged before the
body is read), or where the answer sends the call to a URL no request can reach (a
``Redirect``'s, or a ``callbackUrl``): AT would try it and fail, as with an app that cannot be
reached. ``strict`` keeps the older rule: any problem at all is an app failure.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from at_voice_kit.contracts.actionxml.model import Response
from at_voice_kit.contracts.actionxml.problems import Problem, Severity
from at_voice_kit.simulator.engine.ports import ActionXmlParser
from at_voice_kit.simulator.engine.records import PROBLEMS_KEPT, AppProblem

INVALID = "ActionXML invalid"
"""How an answer the call cannot use is described (the journal's note starts with it)."""
CARRIED_ON = "ActionXML problems, carried on as AT would"
"""How the note of an answer with problems, whose usable actions still ran, starts."""


@dataclass(frozen=True, slots=True)
class AnswerReading:
    """The actions the call carries out (``response``), or why it cannot (``failure``), and
    every problem the answer has (journaled either way)."""

    response: Response | None
    failure: str | None = None
    problems: tuple[Problem, ...] = ()

    @property
    def note(self) -> str | None:
        """What the journal says about this answer: the failure, or how many problems the call
        was carried past (each is a line of the call's timeline)."""
        if self.failure is not None:
            return self.failure
        if not self.problems:
            return None
        return f"{CARRIED_ON}: {counted(self.problems)}"


def read_answer(body: str, parse: ActionXmlParser, *, strict: bool = False) -> AnswerReading:
    """Read a 2xx answer's body: an empty body means no instructions (AT hangs up)."""
    if not body.strip():
        return AnswerReading(Response())
    parsed = parse(body)
    problems = tuple(parsed.problems)
    executable = parsed.response if parsed.ok else parsed.executable
    if executable is None or (strict and problems) or any(map(_unfollowable, problems)):
        return AnswerReading(None, f"{INVALID}: {described(problems) or 'not ActionXML'}", problems)
    return AnswerReading(executable, None, problems)


FOLLOWED_URL_ATTRIBUTES = frozenset({"callbackUrl", "callBackUrl"})
"""Attributes naming where the call's next request goes."""


def _unfollowable(problem: Problem) -> bool:
    """An error on a URL the call would be sent to next (a Redirect's, a callbackUrl)."""
    return problem.severity is Severity.ERROR and (
        problem.element == "Redirect" or problem.attribute in FOLLOWED_URL_ATTRIBUTES
    )


def described(problems: tuple[Problem, ...]) -> str:
    """The problems on one line, each with its severity (``error: 1: Response/Hangup[1]: ...``)."""
    return "; ".join(f"{problem.severity}: {problem}" for problem in problems)


def counted(problems: tuple[Problem, ...]) -> str:
    """``1 error, 2 warnings``: the problems counted by severity, errors first."""
    counts = Counter(problem.severity for problem in problems)
    parts = []
    for severity in (Severity.ERROR, Severity.WARNING, Severity.NOTE):
        if counts[severity]:
            plural = "" if counts[severity] == 1 else "s"
            parts.append(f"{counts[severity]} {severity.value}{plural}")
    return ", ".join(parts)


class ProblemLog:
    """What one call's app did wrong: its answers' ActionXML problems (the first
    :data:`~at_voice_kit.simulator.engine.records.PROBLEMS_KEPT`, and counts of all), and why
    the call ended as an app failure, if it did."""

    __slots__ = ("errors", "failure", "kept", "warnings")

    def __init__(self) -> None:
        self.kept: list[AppProblem] = []
        self.errors = 0
        self.warnings = 0
        self.failure: str | None = None

    def add(self, problem: Problem, at: datetime) -> None:
        """Count ``problem``, found at ``at``, and keep it while there is room."""
        if problem.severity is Severity.ERROR:
            self.errors += 1
        elif problem.severity is Severity.WARNING:
            self.warnings += 1
        if len(self.kept) < PROBLEMS_KEPT:
            self.kept.append(AppProblem(at, problem.severity, str(problem.rule), str(problem)))
