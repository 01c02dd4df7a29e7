"""Journals every request on the REST surface (house principle 9) as Falcon middleware, so
even refused requests (wrong key, unknown path) are on record."""

from __future__ import annotations

import time

import falcon.asgi

from at_voice_kit.simulator.backend.journal import ApiExchange
from at_voice_kit.simulator.backend.voice import VoiceBackend
from at_voice_kit.simulator.serving.rest.wire import RequestForm
from at_voice_kit.simulator.serving.webapp import Surface, request_surface

SECRET_HEADERS = frozenset({"apikey", "authorization"})
REDACTED = "<redacted>"


class ApiJournal:
    """Records method, path, headers (secrets redacted), form, status, answer and timing."""

    def __init__(self, backend: VoiceBackend) -> None:
        self._backend = backend

    async def process_request(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Note when the request arrived."""
        req.context.started_at = self._backend.now()
        req.context.started = time.perf_counter()

    async def process_response(
        self,
        req: falcon.asgi.Request,
        resp: falcon.asgi.Response,
        resource: object,
        req_succeeded: bool,
    ) -> None:
        """Journal the exchange (admin API requests and recording downloads are not API
        requests, so they are not part of the journal: decided on the surface the router
        chose, so no spelling of a path moves a request in or out of the journal)."""
        if request_surface(req) is not Surface.REST:
            return
        context = req.context
        form: RequestForm = context.get("form") or RequestForm()
        started = context.get("started") or time.perf_counter()
        headers = {
            name.lower(): (REDACTED if name.lower() in SECRET_HEADERS else value)
            for name, value in req.headers.items()
        }
        self._backend.journal.record_api_request(
            ApiExchange(
                method=req.method,
                path=req.path,
                headers=headers,
                form=dict(form.fields),
                status=resp.status_code,
                content_type=resp.content_type or "",
                body=resp.text or "",
                started_at=context.get("started_at") or self._backend.now(),
                elapsed=time.perf_counter() - started,
                username=context.get("username"),
                session_ids=context.get("session_ids") or (),
            )
        )
