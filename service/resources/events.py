"""``POST /voice/events``: AT's call notifications, acknowledged only once durably stored."""

from __future__ import annotations

import falcon
import falcon.asgi

from at_voice_kit.service.resources.form_body import read_form
from at_voice_kit.service.store import EventStore
from at_voice_kit.service.webhook_forms import parse_event


class EventsResource:
    """``OK`` means committed: the transaction has committed before the answer is written.

    A redelivery is stored once and answered ``OK`` again, so AT's retries are harmless.
    """

    is_webhook = True

    def __init__(self, store: EventStore, *, strict_fields: bool) -> None:
        self._store = store
        self._strict = strict_fields

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Validate, store, then answer ``OK`` (text/plain)."""
        event = parse_event(await read_form(req), strict=self._strict)
        await self._store.append_async(event)
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = "OK"
