"""The readable report of ``atsim verify``: the verdict, each problem once with the exact
request to reproduce it, then what was covered.

Whatever the app sent (answers, URLs it handed back, the problems found in them) is shown
:func:`~at_voice_kit.simulator.untrusted_text.printable` on its own line, and the target's secrets
are masked (:meth:`~at_voice_kit.simulator.verify.report.VerifyReport.secret_mask`), in every line.
"""

from __future__ import annotations

from at_voice_kit.contracts.actionxml import RULE_VERDICTS
from at_voice_kit.simulator.untrusted_text import printable, printable_lines
from at_voice_kit.simulator.verify.checks import ROLE_PHRASE, Severity
from at_voice_kit.simulator.verify.reproduce import curl_command
from at_voice_kit.simulator.verify.results import ProblemGroup, RunResults
from at_voice_kit.simulator.verify.scenarios import CATEGORY_DESCRIPTIONS

SCENARIOS_LISTED = 4
BODY_EXCERPT = 300


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def verdict(report: RunResults) -> str:
    """The first line: OK or FAILED, and the counts behind it."""
    errors, warnings = len(report.errors), len(report.warnings)
    probes = len(report.probes)
    scenarios = len(report.results)
    failing = sum(1 for result in report.results if result.failed(strict=report.options.strict))
    probed = _plural(probes, "robustness probe warning") if probes else ""
    if report.ok:
        text = f"atsim verify: OK - no problems in {_plural(scenarios, 'scenario')}"
        counts = [_plural(warnings, "warning")] if warnings else []
        counts += [probed] if probed else []
        counts += [f"stopped early: {report.stopped}"] if report.stopped else []
        return text + (f" ({'; '.join(counts)})" if counts else "")
    text = (
        f"atsim verify: FAILED - {_plural(errors + warnings, 'problem')} "
        f"({_plural(errors, 'error')}, {_plural(warnings, 'warning')}) "
        f"in {failing} of {_plural(scenarios, 'scenario')}"
    )
    text += f"; {probed}" if probed else ""
    return text + (f"; stopped early: {report.stopped}" if report.stopped else "")


PROBES_HEADER = (
    "Robustness probes: requests AT never sends (a lower-case direction, a number that is no "
    "phone number, generated forms), to see how the app copes. Warnings: they fail the run "
    "only with --strict."
)


def render_text(report: RunResults) -> str:
    """The whole readable report."""
    lines = [verdict(report)]
    target = f"target: callback URL {report.callback_url}"
    target += f", events URL {report.events_url}" if report.events_url else ", no events URL"
    if report.in_process:
        target += " (in-process app)"
    lines.append(target)
    lines.append(
        f"seed {report.seed} (repeat the run with --seed {report.seed}); "
        f"{_plural(len(report.results), 'scenario')}, "
        f"{_plural(report.request_count, 'request')} in {report.duration:.1f} s; "
        f"AT's timeout {report.options.timeout:g} s"
    )
    lines.extend(f"note: {note}" for note in report.notes)
    probes_started = False
    for number, group in enumerate(report.problems(), start=1):
        if group.probe is not None and not probes_started:
            probes_started = True
            lines.extend(("", PROBES_HEADER))
        lines.append("")
        lines.extend(_group_lines(report, number, group))
    lines.extend(_unreached_lines(report))
    lines.append("")
    lines.append("Coverage:")
    for category, results in report.results_by_category().items():
        requests = sum(len(result.exchanges) for result in results)
        lines.append(
            f"  {category.value:<16} {len(results):>4} scenarios {requests:>5} requests  "
            f"{CATEGORY_DESCRIPTIONS[category]}"
        )
    return printable_lines(report.secret_mask().text("\n".join(lines))) + "\n"


def _group_lines(report: RunResults, number: int, group: ProblemGroup) -> list[str]:
    label = "ERROR" if group.severity is Severity.ERROR else "WARNING"
    example = group.example
    exchange = example.finding.exchange
    answer = exchange.answer
    scenario_ids = group.scenario_ids()
    listed = ", ".join(scenario_ids[:SCENARIOS_LISTED])
    more = len(scenario_ids) - SCENARIOS_LISTED
    if more > 0:
        listed += f", ... (+{more})"
    answered = f"HTTP {answer.status}{_body_excerpt(answer.body)}" if answer.status else None
    if group.is_root_cause:
        label += " (root cause)"
        counted = (
            f"   it explains {_plural(len(group.occurrences), 'failed request')} in "
            f"{_plural(len(scenario_ids), 'scenario')} (not listed separately): {listed}"
        )
    else:
        counted = (
            f"   {_plural(len(group.occurrences), 'request')} in "
            f"{_plural(len(scenario_ids), 'scenario')}: {listed}"
        )
    lines = [f"{number}. {label} [{group.check}] {printable(group.headline)}", counted]
    if example.finding.problem is not None or answer.status is None:
        # what this occurrence showed
        lines.append(f"   e.g. {printable(example.finding.detail)}")
    if group.probe is not None:
        lines.append(f"   AT never sends this request: {printable(group.probe)}")
    problem = example.finding.problem
    if problem is not None and group.severity is Severity.WARNING:
        lines.append(f"   a warning: {RULE_VERDICTS[problem.rule].evidence}")
    if answer.status is not None or example.finding.detail != answer.error:
        lines.append(f"   answer: {printable(answered or answer.error or 'none')}")
    if not exchange.request.fields:  # nothing was sent: the server could not be reached
        return lines
    lines.append(
        f"   reproduce: request {exchange.index} of {len(example.result.exchanges)} "
        f"({ROLE_PHRASE[exchange.role]}) of scenario {example.result.id}: "
        f"{example.result.scenario.title}"
    )
    command = curl_command(
        exchange.request, timeout=report.options.timeout, headers=report.options.headers
    )
    lines.extend("     " + line for line in command.splitlines())
    if report.in_process:
        lines.append("     (the app ran in-process: serve it and use its URL to replay this)")
    return lines


def _unreached_lines(report: RunResults) -> list[str]:
    """What the run did not explore, grouped by reason (each with a few places)."""
    if not report.unreached:
        return []
    by_reason: dict[str, list[str]] = {}
    for branch in report.unreached:
        by_reason.setdefault(branch.reason, []).append(branch.where)
    lines = [
        "",
        f"Not covered ({len(report.unreached)}: branches not explored, scenarios not run):",
    ]
    for reason, places in by_reason.items():
        listed = "; ".join(places[:SCENARIOS_LISTED])
        if len(places) > SCENARIOS_LISTED:
            listed += f"; ... (+{len(places) - SCENARIOS_LISTED})"
        lines.append(f"  - {printable(reason)}: {printable(listed)}")
    return lines


def _body_excerpt(body: str) -> str:
    text = " ".join(body.split())
    if not text:
        return ", empty body"
    if len(text) > BODY_EXCERPT:
        text = text[: BODY_EXCERPT - 3] + "..."
    return f", body: {text}"
