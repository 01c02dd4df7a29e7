"""The report for machines: JSON (``--json``) and JUnit XML (``--report junit.xml``).

JUnit: one ``<testsuite>`` per scenario category, one ``<testcase>`` per scenario and check
that applied to it (named ``<scenario id> :: <check>``), failed with the finding's text and
the ``curl`` command that reproduces it. Warnings do not fail a test case (unless
``--strict``); they are listed in its ``<system-out>``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from at_voice_kit.contracts.actionxml import RULE_VERDICTS
from at_voice_kit.simulator.untrusted_text import printable_lines
from at_voice_kit.simulator.verify.checks import ROLE_PHRASE, Check, Finding, Severity
from at_voice_kit.simulator.verify.exchanges import Exchange
from at_voice_kit.simulator.verify.reproduce import REDACTED, curl_command
from at_voice_kit.simulator.verify.results import ProblemGroup, RunResults, ScenarioResult
from at_voice_kit.simulator.verify.text_report import verdict

JSON_BODY_LIMIT = 2000
_NOT_XML_CHARACTER = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` with every character XML 1.0 cannot carry replaced by U+FFFD: answers and
    generated forms may contain anything, and the JUnit file must stay well-formed."""
    return _NOT_XML_CHARACTER.sub("\ufffd", text)


def _exchange_json(report: RunResults, exchange: Exchange) -> dict[str, Any]:
    answer = exchange.answer
    return {
        "request": exchange.index,
        "role": exchange.role.value,
        "origin": exchange.origin.value,
        "method": "POST",
        "url": exchange.request.url,
        "headers": {"Content-Type": "application/x-www-form-urlencoded"}
        | {name: REDACTED for name, _ in report.options.headers},
        "fields": [[key, value] for key, value in exchange.request.fields],
        "body": exchange.request.body().decode("ascii"),
        "curl": curl_command(
            exchange.request, timeout=report.options.timeout, headers=report.options.headers
        ),
        "answer": {
            "status": answer.status,
            "contentType": answer.content_type,
            "body": answer.body[:JSON_BODY_LIMIT],
            "elapsedSeconds": round(answer.elapsed, 4),
            "error": answer.error,
            "timedOut": answer.timed_out,
        },
    }


def _finding_json(finding: Finding) -> dict[str, Any]:
    data: dict[str, Any] = {
        "check": finding.check.value,
        "severity": finding.severity.value,
        "summary": finding.headline,
        "detail": finding.detail,
        "request": finding.exchange.index,
        "probe": finding.exchange.probe,
    }
    if finding.problem is not None:
        problem = finding.problem
        data["actionxml"] = {
            "rule": problem.rule.value,
            "path": problem.path,
            "element": problem.element,
            "attribute": problem.attribute,
            "line": problem.line,
            "message": problem.message,
            "evidence": RULE_VERDICTS[problem.rule].evidence,
        }
    return data


def _group_json(report: RunResults, group: ProblemGroup) -> dict[str, Any]:
    example = group.example
    data = _finding_json(example.finding)
    data.pop("request")
    data["occurrences"] = len(group.occurrences)
    data["rootCause"] = group.is_root_cause
    data["scenarios"] = group.scenario_ids()
    data["example"] = {"scenario": example.result.id} | _exchange_json(
        report, example.finding.exchange
    )
    return data


def _scenario_json(report: RunResults, result: ScenarioResult) -> dict[str, Any]:
    strict = report.options.strict
    return {
        "id": result.id,
        "title": result.scenario.title,
        "category": result.category.value,
        "ok": not result.failed(strict=strict),
        "requests": len(result.exchanges),
        "ending": result.ending,
        "checks": {
            check.value: "failed" if result.failed(check, strict=strict) else "passed"
            for check in result.checks
        },
        "findings": [_finding_json(finding) for finding in result.findings],
    }


def report_json(report: RunResults) -> dict[str, Any]:
    """Everything in the report, as JSON-ready data (secrets masked, no lone surrogates)."""
    data: dict[str, Any] = report.secret_mask().data(_unmasked_json(report))
    return data


def _unmasked_json(report: RunResults) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "verdict": verdict(report),
        "target": {
            "callbackUrl": report.callback_url,
            "eventsUrl": report.events_url,
            "inProcess": report.in_process,
        },
        "seed": report.seed,
        "timeoutSeconds": report.options.timeout,
        "strict": report.options.strict,
        "durationSeconds": round(report.duration, 3),
        "counts": {
            "scenarios": len(report.results),
            "requests": report.request_count,
            "errors": len(report.errors),
            "warnings": len(report.warnings),
            "probes": len(report.probes),
        },
        "notes": list(report.notes),
        "stoppedEarly": report.stopped,
        "unreached": [
            {"where": branch.where, "reason": branch.reason} for branch in report.unreached
        ],
        "problems": [_group_json(report, group) for group in report.problems()],
        "scenarios": [_scenario_json(report, result) for result in report.results],
    }


def _failure_text(report: RunResults, findings: list[Finding]) -> str:
    """The findings with the request behind each, as text for the XML (masked, printable)."""
    lines: list[str] = []
    for finding in findings:
        exchange = finding.exchange
        lines.append(f"request {exchange.index} ({ROLE_PHRASE[exchange.role]}): {finding.headline}")
        lines.append(f"  {finding.detail}")
        command = curl_command(
            exchange.request, timeout=report.options.timeout, headers=report.options.headers
        )
        lines.extend("  " + line for line in command.splitlines())
    return _junit_text(report, "\n".join(lines))


def _junit_text(report: RunResults, text: str) -> str:
    """``text`` as the JUnit file may carry it: secrets masked, characters XML cannot carry
    replaced, and the rest (control characters too) made printable."""
    return xml_text(printable_lines(report.secret_mask().text(text)))


def _testcase(report: RunResults, result: ScenarioResult, check: Check, parent: ET.Element) -> bool:
    """Add one test case; True if it failed."""
    case = ET.SubElement(
        parent,
        "testcase",
        classname=f"atsim.verify.{result.category.value}",
        name=xml_text(f"{result.id} :: {check.value}"),
        time=f"{result.elapsed:.3f}",
    )
    strict = report.options.strict
    failing = result.failed(check, strict=strict)
    if failing:
        first = failing[0]
        message = _junit_text(report, first.headline)
        failure = ET.SubElement(case, "failure", type=check.value, message=message)
        failure.text = _failure_text(report, failing)
    warnings = [
        finding
        for finding in result.findings
        if finding.check is check and finding.severity is Severity.WARNING and not strict
    ]
    if warnings:
        text = "warning: " + _failure_text(report, warnings)
        ET.SubElement(case, "system-out").text = text
    return bool(failing)


def report_junit(report: RunResults) -> str:
    """The report as a JUnit XML document."""
    root = ET.Element("testsuites", name="atsim verify")
    total_tests = total_failures = 0
    for category, results in report.results_by_category().items():
        suite = ET.SubElement(root, "testsuite", name=f"atsim verify: {category.value}")
        tests = failures = 0
        for result in results:
            for check in result.checks:
                tests += 1
                failures += _testcase(report, result, check, suite)
        suite.set("tests", str(tests))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        suite.set("skipped", "0")
        suite.set("time", f"{sum(result.elapsed for result in results):.3f}")
        total_tests += tests
        total_failures += failures
    root.set("tests", str(total_tests))
    root.set("failures", str(total_failures))
    root.set("errors", "0")
    root.set("time", f"{report.duration:.3f}")
    ET.indent(root)
    body: str = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
