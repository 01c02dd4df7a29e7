"""``GET /voice/``: the documented status answer, and an honest readiness check."""

from __future__ import annotations

import logging

import falcon
import falcon.asgi

from at_voice_kit.service.blocking import BlockingCalls
from at_voice_kit.service.errors import ProblemError
from at_voice_kit.service.store import EventStore
from at_voice_kit.service.store.write_health import TRIAL_WRITE_INTERVAL_SECONDS

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = int(TRIAL_WRITE_INTERVAL_SECONDS)
"""A probe sooner would find the same answer: no trial write is made before then."""


class StatusResource:
    """Ready only when an event could be stored now (``EventStore.readiness``): a load
    balancer must not send calls here while events cannot be stored."""

    def __init__(self, store: EventStore, blocking: BlockingCalls) -> None:
        self._store = store
        self._blocking = blocking

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """``{"service": "voice", "status": "ready"}``, or 503 with the reason."""
        readiness = await self._blocking.run(self._store.readiness)
        if not readiness.ready:
            log.warning("readiness: not ready: %s", readiness.reason)
            raise ProblemError(
                falcon.HTTP_503,
                "Service Unavailable",
                f"not ready: the event store cannot store events now: {readiness.reason}",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                service="voice",
                status_reason=readiness.reason,
            )
        resp.media = {"service": "voice", "status": "ready"}

    async def on_head(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """The same check for load balancers that probe with HEAD (no body)."""
        await self.on_get(req, resp)
