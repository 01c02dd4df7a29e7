"""``POST /voice/instruct``: AT's callback URL, answered with ActionXML from the call flow."""

from __future__ import annotations

import functools

import falcon
import falcon.asgi

from at_voice_kit.contracts.urls import http_url_problem
from at_voice_kit.service.errors import field_error
from at_voice_kit.service.flows import STEP_PARAM, CallFlow, StepUrls
from at_voice_kit.service.flows.definition import STEP_NAME
from at_voice_kit.service.middleware import RequireWebhookSecret
from at_voice_kit.service.resources.form_body import read_form
from at_voice_kit.service.store import EventStore
from at_voice_kit.service.webhook_forms import parse_callback

HOST_CACHE_SIZE = 256
"""``Host`` headers whose verdict is kept (least recently used dropped first): a service is
reached under a handful of names, each checked on every callback request."""


@functools.lru_cache(maxsize=HOST_CACHE_SIZE)
def is_host(value: str) -> bool:
    """True when ``value`` is a ``Host`` header a URL can be built on: a host and an optional
    port, nothing else, by the contracts' one URL rule (labels that can be looked up, a port
    from 1 to 65535).

    Pure, and a few microseconds of URL parsing: the verdicts are cached, bounded, since the
    header is the client's to choose."""
    return not any(c in value for c in "@/?#\\") and http_url_problem(f"http://{value}/") is None


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
        public_url: str | None = None,
    ) -> None:
        self._store = store
        self._flow = flow
        self._strict = strict_fields
        self._secret = webhook_secret
        self._public_url = public_url

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Validate and store the request, then answer the flow's next step."""
        unknown = sorted(set(req.params) - QUERY_PARAMETERS)
        if unknown:
            raise field_error(unknown[0], "is not a query parameter of the callback URL")
        position = req.get_param(STEP_PARAM)
        if position is not None and not STEP_NAME.match(position):
            raise field_error(STEP_PARAM, "must be a flow step name (letters, digits, '_', '-')")
        callback = parse_callback(await read_form(req), strict=self._strict)
        # Everything that can fail runs before the store: a request refused (or failed) after
        # its event was stored would be stored again when AT retries it.
        document = ""
        if callback.is_active:
            urls = StepUrls(self._base_url(req), self._secret)
            document = self._flow.respond(callback, position, urls)
        await self._store.append_async(callback.to_event(position or ""))
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = document

    def _base_url(self, req: falcon.asgi.Request) -> str:
        """This endpoint's public URL, which the flow's callback URLs are built on."""
        if self._public_url is not None:
            return self._public_url + req.path
        host = req.forwarded_host
        if not is_host(host):
            raise field_error(
                "Host", "must be a valid host name (or set VOICE_PUBLIC_URL to stop relying on it)"
            )
        scheme = req.forwarded_scheme.lower()  # RFC 7239: a scheme is case-insensitive
        if scheme not in ("http", "https"):
            raise field_error(
                "X-Forwarded-Proto",
                "the forwarded scheme (X-Forwarded-Proto, or proto in Forwarded) must be http "
                "or https (or set VOICE_PUBLIC_URL to stop relying on it)",
            )
        return f"{scheme}://{host}{req.path}"
