"""JSON shapes of the admin API: records of the backend written as camelCase documents."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from simulator.backend.accounts import Account
from simulator.backend.callees import CalleeBehaviour
from simulator.backend.calls import Call, TransferRequest
from simulator.backend.journal import ApiExchange, WebhookExchange
from simulator.backend.numbers import AtNumber
from simulator.backend.queues import QueueView

CENTS = Decimal("0.01")
CENTS_EXPONENT = -2


def amount_text(amount: Decimal) -> str:
    """Money as a decimal string with at least two decimals (``"9997.50"``)."""
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent > CENTS_EXPONENT:
        amount = amount.quantize(CENTS)
    return f"{amount:f}"


def timestamp(moment: datetime) -> str:
    """An ISO 8601 timestamp."""
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


def callee_view(behaviour: CalleeBehaviour, phone_number: str | None = None) -> dict[str, object]:
    """A callee's behaviour (with its number when it is a number's own)."""
    view: dict[str, object] = {} if phone_number is None else {"phoneNumber": phone_number}
    view.update(
        answer=behaviour.answer.value,
        digits=list(behaviour.digits),
        hangupAfter=behaviour.hangup_after,
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
    }


def api_request_view(exchange: ApiExchange) -> dict[str, object]:
    """A journaled API request and the simulator's answer."""
    return {
        "sequence": exchange.sequence,
        "method": exchange.method,
        "path": exchange.path,
        "username": exchange.username,
        "headers": dict(exchange.headers),
        "form": dict(exchange.form),
        "status": exchange.status,
        "contentType": exchange.content_type,
        "body": exchange.body,
        "sessionIds": list(exchange.session_ids),
        "startedAt": timestamp(exchange.started_at),
        "elapsedSeconds": exchange.elapsed,
    }


def webhook_view(exchange: WebhookExchange) -> dict[str, object]:
    """A journaled webhook and the app's answer."""
    return {
        "kind": exchange.kind,
        "url": exchange.url,
        "form": dict(exchange.form),
        "status": exchange.status,
        "body": exchange.body,
        "error": exchange.error,
        "startedAt": timestamp(exchange.started_at),
        "elapsedSeconds": exchange.elapsed,
    }


def queue_view(queue: QueueView) -> dict[str, object]:
    """A queue with the calls waiting in it."""
    return {
        "phoneNumber": queue.phone_number,
        "queueName": queue.queue_name,
        "numCalls": queue.size,
        "sessionIds": list(queue.session_ids),
    }
