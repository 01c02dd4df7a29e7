"""``POST /voice/instruct``: AT's callback URL, answered with ActionXML from the call flow."""

from __future__ import annotations

import falcon

from service.errors import field_error
from service.flows import STEP_PARAM, CallFlow, StepUrls
from service.middleware import RequireWebhookSecret
from service.resources.form_body import read_form
from service.store import EventStore
from service.webhook_forms import parse_callback

QUERY_PARAMETERS = frozenset({STEP_PARAM, RequireWebhookSecret.PARAM})


class InstructResource:
    """Every request is stored as an event of its call before it is answered. The final
    notification (``isActive=0``) gets 200 with an empty body: AT expects no XML then."""

    is_webhook = True

    def __init__(
        self,
        store: EventStore,
        flow: CallFlow,
        *,
        strict_fields: bool,
        webhook_secret: str | None,
    ) -> None:
        self._store = store
        self._flow = flow
        self._strict = strict_fields
        self._secret = webhook_secret

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Validate and store the request, then answer the flow's next step."""
        unknown = sorted(set(req.params) - QUERY_PARAMETERS)
        if unknown:
            raise field_error(unknown[0], "is not a query parameter of the callback URL")
        position = req.get_param(STEP_PARAM)
        callback = parse_callback(read_form(req), strict=self._strict)
        self._store.append(callback.to_event(position or ""))
        resp.content_type = falcon.MEDIA_TEXT
        if not callback.is_active:
            resp.text = ""
            return
        urls = StepUrls(req.forwarded_prefix + req.path, self._secret)
        resp.text = self._flow.respond(callback, position, urls)
