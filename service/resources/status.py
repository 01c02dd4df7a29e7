"""``GET /voice/``: the documented status answer, and an honest readiness check."""

from __future__ import annotations

import logging

import falcon
import sqlalchemy.exc

from at_voice_kit.service.errors import ProblemError
from at_voice_kit.service.store import EventStore

log = logging.getLogger(__name__)


class StatusResource:
    """Ready only when the event store answers: a load balancer must not send calls here
    while events could not be stored."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """``{"service": "voice", "status": "ready"}``, or 503 with the reason."""
        try:
            self._store.ping()
        except sqlalchemy.exc.SQLAlchemyError as exc:
            log.error("readiness: database unreachable: %s", exc)
            raise ProblemError(
                falcon.HTTP_503,
                "Service Unavailable",
                "not ready: the event store's database is unreachable",
                headers={"Retry-After": "5"},
                service="voice",
                status_reason="database unreachable",
            ) from exc
        resp.media = {"service": "voice", "status": "ready"}

    def on_head(self, req: falcon.Request, resp: falcon.Response) -> None:
        """The same check for load balancers that probe with HEAD (no body)."""
        self.on_get(req, resp)
