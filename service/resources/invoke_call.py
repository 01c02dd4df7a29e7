"""``GET|POST /voice/invoke-call``: place an outbound call through Africa's Talking."""

from __future__ import annotations

from typing import Any

import falcon

from contracts.phone import normalise_international
from service.at_client import CallPlacer
from service.errors import ProblemError, field_error
from service.resources.form_body import read_form
from service.store import CallEvent, EventSource, EventStore

ACCEPTED_PARAMETERS = frozenset({"phone"})


class InvokeCallResource:
    """Spends money, so it requires the API token. GET is kept for the documented contract;
    POST with a form body is the safe way (no phone numbers in access logs or browser
    history, no accidental calls from link prefetchers)."""

    auth_required = True

    def __init__(self, placer: CallPlacer, store: EventStore) -> None:
        self._placer = placer
        self._store = store

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """The documented form: ``?phone=254711XXXYYY``."""
        self._invoke(dict(req.params), resp)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """The same, with ``phone`` in a form body."""
        if req.params:
            raise field_error(sorted(req.params)[0], "send POST fields in the form body")
        self._invoke(read_form(req), resp)

    def _invoke(self, fields: dict[str, Any], resp: falcon.Response) -> None:
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
        answer = self._placer.place(phone)
        self._record(phone, answer)
        resp.media = {"message": f"Call initiated to {phone}", "response": answer}

    def _record(self, phone: str, answer: dict[str, Any]) -> None:
        for entry in answer.get("entries", []):
            session_id = entry.get("sessionId")
            if isinstance(session_id, str) and session_id not in ("", "None"):
                self._store.append(
                    CallEvent(
                        session_id=session_id[:128],
                        source=EventSource.API,
                        kind="CallRequested",
                        fields={"phoneNumber": phone, "entryStatus": str(entry.get("status"))},
                        direction="Outbound",
                        caller_number=phone,
                    )
                )
