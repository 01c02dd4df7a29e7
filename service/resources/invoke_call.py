"""``GET|POST /voice/invoke-call``: place an outbound call through Africa's Talking."""

from __future__ import annotations

import logging
from typing import Any

import falcon
import falcon.asgi
import sqlalchemy.exc

from at_voice_kit.contracts.phone import normalise_international
from at_voice_kit.contracts.vocabulary import NONE_STRING, Direction
from at_voice_kit.service.at_client import CallPlacer
from at_voice_kit.service.blocking import BlockingCalls
from at_voice_kit.service.errors import ProblemError, field_error
from at_voice_kit.service.resources.form_body import read_form
from at_voice_kit.service.store import CallEvent, EventSource, EventStore
from at_voice_kit.service.store.failures import StoreUnavailable
from at_voice_kit.service.webhook_forms import value_problem

ACCEPTED_PARAMETERS = frozenset({"phone"})

log = logging.getLogger(__name__)


class InvokeCallResource:
    """Spends money, so it requires the API token. GET is kept for the documented contract;
    POST with a form body is the safe way (no phone numbers in access logs or browser
    history, no accidental calls from link prefetchers)."""

    auth_required = True

    def __init__(self, placer: CallPlacer, store: EventStore, blocking: BlockingCalls) -> None:
        self._placer = placer
        self._store = store
        self._blocking = blocking

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """The documented form: ``?phone=254711XXXYYY``."""
        await self._invoke(dict(req.params), resp)

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """The same, with ``phone`` in a form body."""
        if req.params:
            raise field_error(sorted(req.params)[0], "send POST fields in the form body")
        await self._invoke(await read_form(req), resp)

    async def _invoke(self, fields: dict[str, Any], resp: falcon.asgi.Response) -> None:
        unknown = sorted(set(fields) - ACCEPTED_PARAMETERS)
        if unknown:
            raise field_error(unknown[0], "is not a parameter of invoke-call (only 'phone')")
        raw = fields.get("phone")
        if raw is None:
            raise ProblemError(
                falcon.HTTP_400,
                "Missing parameter",
                "phone: is required (the number to call, e.g. 254711XXXYYY)",
                errors=[{"field": "phone", "rule": "is required"}],
            )
        if not isinstance(raw, str):
            raise field_error("phone", "must be given once")
        phone = normalise_international(raw)
        # The SDK's HTTP call, and the store's own transaction for the record, block.
        answer = await self._blocking.run(self._placer.place, phone)
        await self._blocking.run(self._record, phone, answer)
        resp.media = {"message": f"Call initiated to {phone}", "response": answer}

    def _record(self, phone: str, answer: dict[str, Any]) -> None:
        """Store each queued call, so the history lists it (by number too) before AT calls back.

        AT has queued the call by now and it is costing money: a database failure here must
        not become a 503 that invites the client to retry, placing the call again. It is
        logged, and the call still answers as placed; AT's own callbacks will record it.
        """
        events = [
            self._requested(session_id, phone, str(entry.get("status")))
            for entry in answer.get("entries", [])
            if (session_id := entry.get("sessionId")) not in (None, "", NONE_STRING)
        ]
        # Only what AT's webhooks could carry is stored: the history's queries and cursors
        # take session ids by that rule, so a stranger one would be a call no page can pass.
        refused = [e.session_id for e in events if value_problem("sessionId", e.session_id)]
        if refused:
            log.warning("invoke-call: not recording AT's odd session ids %r", refused)
            events = [event for event in events if event.session_id not in refused]
        try:
            self._store.append_many(events)
        except (sqlalchemy.exc.SQLAlchemyError, StoreUnavailable) as exc:
            log.error(
                "invoke-call: AT queued %s but the event store failed; "
                "the call will be recorded when AT calls back: %s",
                ", ".join(event.session_id for event in events),
                exc,
            )

    def _requested(self, session_id: object, phone: str, entry_status: str) -> CallEvent:
        # With AT's own field names (callerNumber is always the phone user, destinationNumber
        # the AT number), so the call is found by either number and shows its direction. The
        # sessionId is a field too: two calls to one number are two events, not a redelivery.
        fields = {
            "sessionId": str(session_id),
            "direction": Direction.OUTBOUND.value,
            "callerNumber": phone,
            "destinationNumber": self._placer.caller_id,
            "phoneNumber": phone,
            "entryStatus": entry_status,
        }
        return CallEvent(
            session_id=fields["sessionId"],
            source=EventSource.API,
            kind="CallRequested",
            fields=fields,
            direction=fields["direction"],
            caller_number=phone,
            destination_number=self._placer.caller_id,
        )
