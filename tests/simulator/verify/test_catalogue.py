"""Each deliberately broken app is caught with the right problem, and nothing else; the
correct app gets a clean report (WSGI and ASGI, in-process)."""

from __future__ import annotations

import pytest

from at_voice_kit.simulator.verify import Category, Check, Severity, Target, VerifyOptions, verify
from tests.simulator.verify.webhook_apps import CATALOGUE, IvrApp, Mistake, as_asgi


def test_the_catalogue_is_big_enough_to_mean_something() -> None:
    errors = {m.name for m in CATALOGUE if m.severity is Severity.ERROR}
    assert len(errors) >= 8
    assert len({m.check for m in CATALOGUE}) >= 9


@pytest.mark.parametrize("mistake", CATALOGUE, ids=lambda m: m.name)
def test_each_mistake_is_caught_with_the_right_problem(mistake: Mistake) -> None:
    options = VerifyOptions(
        seed=5, quick=True, categories=mistake.categories, timeout=mistake.timeout
    )
    report = verify(Target.in_process(mistake.app(), "/voice"), options)

    matching = [
        group
        for group in report.problems()
        if group.check is mistake.check and group.severity is mistake.severity
    ]
    assert matching, report.summary()
    group = matching[0]
    finding = group.example.finding
    if mistake.rule is not None:
        assert finding.problem is not None
        assert finding.problem.rule is mistake.rule, report.summary()
        assert mistake.path is None or finding.problem.path == mistake.path, report.summary()
        assert finding.problem.attribute == mistake.attribute, report.summary()
    assert any(sid.startswith(mistake.scenario) for sid in group.scenario_ids()), report.summary()
    # Nothing else fails: a broken app gets its own problem, not a cloud of false alarms.
    allowed = {mistake.check, *mistake.also}
    assert {g.check for g in report.problems()} <= allowed, report.summary()
    assert report.ok is (mistake.severity is Severity.WARNING)
    assert report.summary().count("reproduce:") == len(report.problems())


def test_warnings_fail_the_run_only_when_strict() -> None:
    labelled = next(m for m in CATALOGUE if m.severity is Severity.WARNING)
    target = Target.in_process(labelled.app(), "/voice")
    options = VerifyOptions(seed=5, quick=True, categories=labelled.categories)
    assert verify(target, options).ok
    strict = verify(target, VerifyOptions(seed=5, quick=True, categories=labelled.categories,
                                          strict=True))  # fmt: skip
    assert not strict.ok
    assert "FAILED" in strict.summary()


def test_a_correct_wsgi_app_gets_a_clean_report_from_every_scenario() -> None:
    app = IvrApp()
    report = verify(Target.in_process(app, "/voice"), VerifyOptions(seed=11))
    assert report.ok, report.summary()
    assert not report.warnings, report.summary()
    assert {r.category for r in report.results} == set(Category)
    assert report.summary().startswith("atsim verify: OK")
    # The app downloaded recordings (and checked they were WAV files) and got every event.
    crawl_ids = {r.id for r in report.results if r.category is Category.CRAWL}
    assert {"crawl/outbound/2", "crawl/outbound/2/silent", "crawl/outbound/1/dial-answered",
            "crawl/outbound/*", "crawl/inbound/9"} <= crawl_ids  # fmt: skip
    assert app.finals and app.events


def test_a_correct_asgi_app_gets_a_clean_report() -> None:
    options = VerifyOptions(seed=12, quick=True, categories=frozenset(
        {Category.CRAWL, Category.OUTCOMES, Category.EVENT_ORDERS}))  # fmt: skip
    report = verify(Target.in_process(as_asgi(IvrApp()), "/voice"), options)
    assert report.ok, report.summary()
    assert len(report.results) > 30


def test_an_asgi_app_that_crashes_is_caught() -> None:
    crash = next(m for m in CATALOGUE if m.name == "crash-on-final-notification")
    options = VerifyOptions(seed=12, quick=True, categories=frozenset({Category.OUTCOMES}))
    report = verify(Target.in_process(as_asgi(crash.app()), "/voice"), options)
    assert [g.check for g in report.errors] == [Check.FINAL_NOTIFICATION_2XX], report.summary()
    assert "HTTP 500" in report.summary()
