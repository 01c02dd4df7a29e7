"""What ``atsim demo`` prints and checks: the outcome summary, the service's stored history,
and whether the service stored every call exactly as the simulator ran it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from at_voice_kit.simulator.client.timeline import redact, webhook_failed

CallDocument = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class DemoResult:
    """One call of the demo: what was asked for, and the simulator's record (if it ended)."""

    label: str
    phone_number: str
    session_id: str | None
    call: CallDocument | None
    problem: str | None = None


def counted(count: int, noun: str) -> str:
    """``1 call``, ``2 calls``: a count with its noun in the right number."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain text table, columns padded to their widest cell."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join("  " + line.rstrip() for line in _rows(cells, widths))


def _rows(cells: Sequence[Sequence[str]], widths: Sequence[int]) -> list[str]:
    rendered = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    rendered.insert(1, "  ".join("-" * w for w in widths))
    return rendered


def outcome_summary(results: Sequence[DemoResult]) -> str:
    """Calls counted by hangup cause (with their state and status), and what they cost."""
    counts: Counter[tuple[str, str, str]] = Counter()
    costs: dict[str, Decimal] = {}
    for result in results:
        outcome = result.call.get("outcome") if result.call else None
        if outcome is None:
            counts[("(not ended)", "-", "-")] += 1
            continue
        counts[(outcome["hangupCause"], outcome["callSessionState"], outcome["status"])] += 1
        currency = outcome["currencyCode"]
        costs[currency] = costs.get(currency, Decimal(0)) + Decimal(outcome["amount"])
    rows = [
        (cause, count, state, status)
        for (cause, state, status), count in sorted(counts.items(), key=lambda i: (-i[1], i[0]))
    ]
    spent = ", ".join(f"{currency} {amount}" for currency, amount in sorted(costs.items()))
    summary = table(("hangupCause", "calls", "callSessionState", "status"), rows)
    return f"{summary}\n  total cost: {spent or 'nothing'}"


def history_table(history: Sequence[Mapping[str, Any]]) -> str:
    """The service's ``GET /voice/calls``, one line per call."""
    rows = []
    for call in history:
        outcome = call["outcome"]
        rows.append(
            (
                call["sessionId"],
                outcome.get("direction") or "-",
                _party(outcome),
                outcome.get("status") or "-",
                outcome.get("hangupCause") or "-",
                outcome.get("durationInSeconds", "-"),
                f"{outcome.get('currencyCode') or ''} {outcome.get('amount') or '-'}".strip(),
                call["eventCount"],
            )
        )
    headers = ("sessionId", "direction", "phone user", "status", "hangupCause", "seconds",
               "amount", "events")  # fmt: skip
    return table(headers, rows)


def _party(outcome: Mapping[str, Any]) -> str:
    return str(outcome.get("callerNumber") or "-")


def problems(results: Sequence[DemoResult], history: Sequence[Mapping[str, Any]]) -> list[str]:
    """Everything that went wrong: calls not placed or not ended, webhooks the service failed,
    and calls the service did not store exactly as the simulator ran them."""
    found: list[str] = []
    stored = {call["sessionId"]: call for call in history}
    for result in results:
        if result.problem is not None:
            found.append(f"{result.phone_number}: {result.problem}")
            continue
        if result.call is None or result.session_id is None:
            continue
        found.extend(_call_problems(result.session_id, result.call, stored.get(result.session_id)))
    return found


def _call_problems(
    session_id: str, call: CallDocument, stored: Mapping[str, Any] | None
) -> list[str]:
    webhooks = call["webhooks"]
    found = [
        f"{session_id}: the service answered {w['status']} to {w['kind']} "
        f"({redact(w['error'] or w['body'][:80])})"  # what it answered: printable, masked
        for w in webhooks
        if webhook_failed(w)
    ]
    if stored is None:
        return [*found, f"{session_id}: the service stored nothing for this call"]
    outcome = call["outcome"]
    kept = stored["outcome"]
    if not kept.get("ended"):
        found.append(f"{session_id}: the service does not know the call ended")
    if kept.get("hangupCause") != outcome["hangupCause"]:
        found.append(
            f"{session_id}: the service stored hangupCause {kept.get('hangupCause')}, "
            f"the simulator sent {outcome['hangupCause']}"
        )
    # Every webhook the simulator delivered is one stored event, plus the service's own
    # record of the invoke-call that placed the call.
    expected = len(webhooks) + 1
    if stored["eventCount"] != expected:
        found.append(
            f"{session_id}: the service stored {stored['eventCount']} events, "
            f"expected {expected} ({len(webhooks)} webhooks + the invoke-call)"
        )
    return found
