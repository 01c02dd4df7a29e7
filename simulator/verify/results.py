"""What a verification produced: every scenario's exchanges and findings, grouped by problem.

:class:`RunResults` holds the data of a run and groups it; a *problem* is one
:class:`ProblemGroup`: the same check broken the same way (same status, same grammar rule
at the same place), however many requests and scenarios it showed up in. The renderers
(:mod:`.text_report`, :mod:`.machine_reports`) read these values, and
:class:`~at_voice_kit.simulator.verify.report.VerifyReport` adds them as methods, so imports run
one way: report -> renderers -> results.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from at_voice_kit.simulator.verify.checks import CHECKS, Check, Finding, Severity
from at_voice_kit.simulator.verify.exchanges import Exchange
from at_voice_kit.simulator.verify.options import VerifyOptions
from at_voice_kit.simulator.verify.report_secrets import SecretMask
from at_voice_kit.simulator.verify.run_guard import ROOT_CAUSE_KEY, RootCause
from at_voice_kit.simulator.verify.scenarios import Category, Scenario, Unreached


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    """One scenario as it ran: what was sent and answered, and what broke.

    ``checks`` are the checks that applied to its requests (in report order); ``ending``
    says how a simulated call ended (``Completed/Success/NORMAL_CLEARING: ...``).
    """

    scenario: Scenario
    exchanges: tuple[Exchange, ...]
    findings: tuple[Finding, ...]
    checks: tuple[Check, ...]
    elapsed: float = 0.0
    ending: str | None = None

    @property
    def id(self) -> str:
        """The scenario's stable id."""
        return self.scenario.id

    def kept(self) -> ScenarioResult:
        """This result as the report keeps it once judged: every answer cut to its start
        (:meth:`Exchange.kept`), in the exchanges and in the findings that show them."""
        kept = {id(exchange): exchange.kept() for exchange in self.exchanges}
        findings = tuple(
            replace(f, exchange=kept.get(id(f.exchange)) or f.exchange.kept())
            for f in self.findings
        )
        return replace(self, exchanges=tuple(kept.values()), findings=findings)

    @property
    def category(self) -> Category:
        """The scenario's category."""
        return self.scenario.category

    def failed(self, check: Check | None = None, *, strict: bool = False) -> list[Finding]:
        """The findings that fail this scenario (of ``check`` only, if given)."""
        return [
            finding
            for finding in self.findings
            if (check is None or finding.check is check)
            and (strict or finding.severity is Severity.ERROR)
        ]


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One finding and the scenario it happened in."""

    result: ScenarioResult
    finding: Finding


@dataclass(frozen=True, slots=True)
class ProblemGroup:
    """One problem: a check broken the same way, wherever it happened (first occurrence first)."""

    check: Check
    severity: Severity
    key: str
    occurrences: tuple[Occurrence, ...]

    @property
    def example(self) -> Occurrence:
        """The occurrence to reproduce: the first, in scenario order."""
        return self.occurrences[0]

    @property
    def headline(self) -> str:
        """What is wrong, in one line."""
        return self.example.finding.headline

    @property
    def is_root_cause(self) -> bool:
        """True for the problem that made verify stop the run, with all it explains."""
        return self.key == ROOT_CAUSE_KEY

    @property
    def probe(self) -> str | None:
        """Why AT would never send the example's request, when the problem only showed up on
        robustness probes (None: it showed up on requests AT sends)."""
        return self.example.finding.exchange.probe

    def scenario_ids(self) -> list[str]:
        """The scenarios it showed up in, each once, in order."""
        ids: list[str] = []
        for occurrence in self.occurrences:
            if occurrence.result.id not in ids:
                ids.append(occurrence.result.id)
        return ids


@dataclass(frozen=True, slots=True)
class RunResults:
    """Everything a verification found, as data; ``ok`` is the verdict."""

    callback_url: str
    events_url: str | None
    in_process: bool
    seed: int
    options: VerifyOptions
    results: tuple[ScenarioResult, ...]
    duration: float
    notes: tuple[str, ...] = field(default=())
    unreached: tuple[Unreached, ...] = field(default=())
    """Parts of the app's call tree the run did not explore, and scenarios it did not run,
    each with the reason."""
    stopped: str | None = None
    """Why verify stopped the run before its plan was done (None: it ran to the end)."""
    root_cause: RootCause | None = None
    """What made it stop, when that was the app (it vanished, or answers nothing in time)."""

    @property
    def findings(self) -> list[Finding]:
        """Every finding of every scenario."""
        return [finding for result in self.results for finding in result.findings]

    @property
    def errors(self) -> list[ProblemGroup]:
        """The problems that fail the run."""
        return [group for group in self.problems() if group.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[ProblemGroup]:
        """The problems reported as warnings, on requests AT sends."""
        return [
            group
            for group in self.problems()
            if group.severity is Severity.WARNING and group.probe is None
        ]

    @property
    def probes(self) -> list[ProblemGroup]:
        """The problems only robustness probes (requests AT never sends) found: warnings."""
        return [group for group in self.problems() if group.probe is not None]

    @property
    def ok(self) -> bool:
        """True when nothing failed (with ``strict``, not even a warning)."""
        return not (self.problems() if self.options.strict else self.errors)

    @property
    def request_count(self) -> int:
        """How many requests were sent."""
        return sum(len(result.exchanges) for result in self.results)

    def problems(self) -> list[ProblemGroup]:
        """Findings grouped by problem: the root cause first, other errors, then warnings,
        then robustness probes;
        within each, in the order the checks are listed (``checks.CHECKS``), then by first
        appearance."""
        groups: dict[tuple[Check, Severity, str], list[Occurrence]] = {}
        for result in self.results:
            for finding in result.findings:
                key = (finding.check, finding.severity, finding.key)
                groups.setdefault(key, []).append(Occurrence(result, finding))
        root = self.root_cause
        for occurrences in groups.values():
            if root is not None and occurrences[0].finding.key == ROOT_CAUSE_KEY:
                # The request that showed the root cause first is the one to reproduce.
                occurrences.sort(key=lambda o: not root.is_example(o.result.id, o.finding.exchange))
        order = {spec.check: position for position, spec in enumerate(CHECKS)}
        made = [
            ProblemGroup(check, severity, key, tuple(occurrences))
            for (check, severity, key), occurrences in groups.items()
        ]
        firsts = {id(group): position for position, group in enumerate(made)}
        made.sort(
            key=lambda g: (
                g.severity is not Severity.ERROR,
                not g.is_root_cause,
                g.probe is not None,
                order[g.check],
                firsts[id(g)],
            )
        )
        return made

    def results_by_category(self) -> dict[Category, list[ScenarioResult]]:
        """The scenario results of each category that ran, in category order."""
        by_category: dict[Category, list[ScenarioResult]] = {}
        for category in Category:
            results = [result for result in self.results if result.category is category]
            if results:
                by_category[category] = results
        return by_category

    def secret_mask(self) -> SecretMask:
        """What every output of this report hides (nothing with ``show_secrets``)."""
        return SecretMask.for_target(
            (self.callback_url, self.events_url),
            self.options.headers,
            shown=self.options.show_secrets,
        )
