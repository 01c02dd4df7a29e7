"""The outcome of a verification, as the library returns it: :class:`VerifyReport`.

It is the run's data (:class:`~at_voice_kit.simulator.verify.results.RunResults`: every
scenario's exchanges and findings, grouped by problem) with its three renderings: the readable
report (:meth:`VerifyReport.summary`), JSON (:meth:`VerifyReport.to_json`) and JUnit XML
(:meth:`VerifyReport.to_junit`), each with the target's secrets masked
(:meth:`~at_voice_kit.simulator.verify.results.RunResults.secret_mask`) and whatever the app sent
made printable. The renderers read the data only, so imports run one way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from at_voice_kit.simulator.verify.machine_reports import report_json, report_junit
from at_voice_kit.simulator.verify.results import (
    Occurrence,
    ProblemGroup,
    RunResults,
    ScenarioResult,
)
from at_voice_kit.simulator.verify.text_report import render_text

__all__ = ["Occurrence", "ProblemGroup", "ScenarioResult", "VerifyReport"]


@dataclass(frozen=True, slots=True)
class VerifyReport(RunResults):
    """Everything a verification found. ``ok`` is the verdict; ``summary()`` explains it."""

    def summary(self) -> str:
        """The readable report: verdict, each problem with a request to reproduce it, coverage."""
        return render_text(self)

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data (``atsim verify --json``)."""
        return report_json(self)

    def to_junit(self) -> str:
        """The report as JUnit XML: one test case per scenario and check."""
        return report_junit(self)
