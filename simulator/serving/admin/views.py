"""JSON shapes of the admin API: records of the backend written as camelCase documents."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from at_voice_kit.simulator.backend.accounts import Account
from at_voice_kit.simulator.backend.callees import CalleeScript
from at_voice_kit.simulator.backend.calls import Call, TransferRequest
from at_voice_kit.simulator.backend.journal import ApiExchange, Journal, WebhookExchange
from at_voice_kit.simulator.backend.numbers import AtNumber
from at_voice_kit.simulator.backend.queues import QueueView
from at_voice_kit.simulator.engine.records import CallRecord

CENTS = Decimal("0.01")
CENTS_EXPONENT = -2


def amount_text(amount: Decimal) -> str:
    """Money as a decimal string with at least two decimals (``"9997.50"``)."""
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent > CENTS_EXPONENT:
        amount = amount.quantize(CENTS)
    return f"{amount:f}"


def timestamp(moment: datetime) -> str:
    """An ISO 8601 timestamp with its offset (the engine's naive clock times are UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def account_view(account: Account) -> dict[str, object]:
    """An account; the API key is never shown."""
    return {
        "username": account.username,
        "balance": amount_text(account.balance),
        "currency": account.currency,
    }


def number_view(number: AtNumber) -> dict[str, object]:
    """An AT number with its URLs and uploaded media."""
    return {
        "phoneNumber": number.phone_number,
        "username": number.username,
        "callbackUrl": number.callback_url,
        "eventsUrl": number.events_url,
        "mediaUrls": list(number.media_urls),
    }


def callee_view(script: CalleeScript, phone_number: str | None = None) -> dict[str, object]:
    """A callee's script (with its number when it is a number's own)."""
    view: dict[str, object] = {} if phone_number is None else {"phoneNumber": phone_number}
    view.update(
        answer=None if script.answer is None else script.answer.value,
        digits=list(script.digits),
        hangupAfter=script.hangup_after,
        speechSeconds=script.speech_seconds,
        hangupCause=None if script.hangup_cause is None else script.hangup_cause.value,
    )
    return view


def transfer_view(request: TransferRequest) -> dict[str, object]:
    """A transfer the platform accepted."""
    return {
        "phoneNumber": request.phone_number,
        "callLeg": request.call_leg.value,
        "holdMusicUrl": request.hold_music_url,
        "requestedAt": timestamp(request.requested_at),
    }


def call_view(call: Call) -> dict[str, object]:
    """A call session as the platform records it."""
    return {
        "sessionId": call.session_id,
        "username": call.username,
        "direction": call.direction.value,
        "phase": call.phase.value,
        "atNumber": call.at_number,
        "phoneNumber": call.phone_number,
        "clientRequestId": call.client_request_id,
        "createdAt": timestamp(call.created_at),
        "reserved": amount_text(call.reserved),
        "cost": None if call.cost is None else amount_text(call.cost),
        "currency": call.currency,
        "bridgedWith": call.bridged_with,
        "transfers": [transfer_view(request) for request in call.transfers],
        "outcome": None if call.record is None else outcome_view(call.record),
        "clockStart": None if call.clock_start is None else timestamp(call.clock_start),
    }


def outcome_view(record: CallRecord) -> dict[str, object]:
    """How a finished call went: the final request's facts, why it ended, and its timeline.

    Times are the call's clock (virtual under ``--speed fast``).
    """
    return {
        "callSessionState": record.ending.state.value,
        "status": record.ending.status.value,
        "hangupCause": record.ending.cause.value,
        "reason": record.end_reason,
        "queuedAt": timestamp(record.queued_at),
        "callStartTime": None if record.call_start is None else timestamp(record.call_start),
        "endedAt": timestamp(record.ended_at),
        "durationInSeconds": record.duration_seconds,
        "currencyCode": record.currency,
        "amount": record.amount,
        "recordingUrls": list(record.recording_urls),
        "legs": [
            {
                "phoneNumber": leg.number,
                "ringSeconds": leg.ring_seconds,
                "hangupCause": None if leg.cause is None else leg.cause.value,
            }
            for leg in record.legs
        ],
        "timeline": [{"at": timestamp(at), "event": text} for at, text in record.timeline],
        "placed": record.placed,
        "appFailure": record.app_failure,
        "errors": record.errors,
        "warnings": record.warnings,
        "problems": [
            {
                "at": timestamp(problem.at),
                "severity": problem.severity.value,
                "rule": problem.rule,
                "problem": problem.text,
            }
            for problem in record.problems
        ],
    }


def timeline_so_far(call: Call, journal: Journal) -> tuple[tuple[datetime, str], ...]:
    """A call's timeline lines: its record's once it has ended, the journal's while it runs."""
    if call.record is not None:
        return call.record.timeline
    return tuple((note.at, note.text) for note in journal.notes_for(call.session_id))


def api_request_view(exchange: ApiExchange) -> dict[str, object]:
    """A journaled API request and the simulator's answer (bounded previews: the flags say
    what was cut, ``bodySize`` is the whole answer's length in characters)."""
    return {
        "sequence": exchange.sequence,
        "method": exchange.method,
        "path": exchange.path,
        "username": exchange.username,
        "headers": dict(exchange.headers),
        "headersTruncated": exchange.headers_truncated,
        "form": dict(exchange.form),
        "formTruncated": exchange.form_truncated,
        "status": exchange.status,
        "contentType": exchange.content_type,
        "body": exchange.body,
        "bodySize": len(exchange.body) if exchange.body_size is None else exchange.body_size,
        "bodyTruncated": exchange.body_truncated,
        "sessionIds": list(exchange.session_ids),
        "startedAt": timestamp(exchange.started_at),
        "elapsedSeconds": exchange.elapsed,
    }


def webhook_view(exchange: WebhookExchange) -> dict[str, object]:
    """A journaled webhook and the app's answer.

    ``startedAt`` is the call's clock (virtual under ``--speed fast``, so a call's timeline
    reads in realistic seconds); ``elapsedSeconds`` is the real time the app took. ``body``
    is the start of the answer (the journal keeps 4096 characters), ``bodySize`` its whole
    length in characters as read, ``bodyTruncated`` whether ``body`` is only its start.
    """
    request, result = exchange.request, exchange.result
    return {
        "kind": request.kind.value,
        "url": request.url,
        "form": request.form(),
        "status": result.status,
        "body": result.body,
        "bodySize": len(result.body) if result.body_size is None else result.body_size,
        "bodyTruncated": result.body_truncated,
        "error": result.error,
        "timedOut": result.timed_out,
        "note": exchange.note,
        "startedAt": timestamp(exchange.sent_at),
        "elapsedSeconds": result.elapsed,
    }


def queue_view(queue: QueueView) -> dict[str, object]:
    """A queue with the calls waiting in it."""
    return {
        "phoneNumber": queue.phone_number,
        "queueName": queue.queue_name,
        "numCalls": queue.size,
        "sessionIds": list(queue.session_ids),
    }
