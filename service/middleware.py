"""Cross-cutting request checks: body limits, the API token, and the webhook secret.

Resources declare what they need with class attributes (``auth_required``, ``is_webhook``);
the middleware enforces it before the resource runs, so no resource can forget.
"""

from __future__ import annotations

import hmac
from typing import Any

import falcon
import falcon.asgi

from at_voice_kit.service.config import Config
from at_voice_kit.service.errors import ProblemError, field_error

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class RequestBodyLimit:
    """Refuse bodies over ``max_bytes`` (413) and bodies of unknown length (411)."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes

    async def process_request(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Check the declared length before anything reads the body."""
        if req.method not in BODY_METHODS:
            return  # a GET's body is never read: its framing headers do not matter
        length = req.content_length
        if length is None:
            if req.get_header("Transfer-Encoding"):
                raise ProblemError(
                    falcon.HTTP_411,
                    "Length Required",
                    "send the body with a Content-Length header",
                )
            return
        if length > self._max_bytes:
            raise ProblemError(
                falcon.HTTP_413,
                "Content Too Large",
                f"the body must be at most {self._max_bytes} bytes (VOICE_MAX_BODY_BYTES)",
            )


class RequireBearerToken:
    """``Authorization: Bearer <VOICE_API_TOKEN>`` on resources with ``auth_required``.

    With no token configured the service runs open (allowed only against the sandbox or a
    simulator; :class:`at_voice_kit.service.config.Config` refuses it for the real AT).
    """

    def __init__(self, token: str | None) -> None:
        self._token = token.encode() if token is not None else None

    async def process_resource(
        self,
        req: falcon.asgi.Request,
        resp: falcon.asgi.Response,
        resource: object,
        params: dict[str, Any],
    ) -> None:
        """Reject the request unless it carries the token (constant-time comparison)."""
        if self._token is None or not getattr(resource, "auth_required", False):
            return
        scheme, _, credentials = (req.get_header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not credentials:
            raise ProblemError(
                falcon.HTTP_401,
                "Unauthorized",
                "send the service's API token as 'Authorization: Bearer <VOICE_API_TOKEN>'",
                headers={"WWW-Authenticate": 'Bearer realm="voice"'},
            )
        if not hmac.compare_digest(credentials.strip().encode(), self._token):
            raise ProblemError(
                falcon.HTTP_401,
                "Unauthorized",
                "the API token is not valid",
                headers={"WWW-Authenticate": 'Bearer realm="voice", error="invalid_token"'},
            )


class RequireWebhookSecret:
    """When ``VOICE_WEBHOOK_SECRET`` is set, AT's webhooks must carry ``?secret=<it>``.

    AT cannot send an Authorization header, but it calls the URL configured for the number
    exactly, query string included: putting the secret there keeps strangers from writing
    events or walking the call flow.
    """

    PARAM = "secret"
    MAX_LENGTH = Config.MAX_WEBHOOK_SECRET_LENGTH

    def __init__(self, secret: str | None) -> None:
        self._secret = secret.encode() if secret is not None else None

    async def process_resource(
        self,
        req: falcon.asgi.Request,
        resp: falcon.asgi.Response,
        resource: object,
        params: dict[str, Any],
    ) -> None:
        """Reject webhook requests without the right secret (constant-time comparison)."""
        if not getattr(resource, "is_webhook", False):
            return
        given = req.get_param(self.PARAM) or ""
        if len(given) > self.MAX_LENGTH:
            raise field_error(self.PARAM, f"must be at most {self.MAX_LENGTH} characters")
        if self._secret is None:
            return
        if not hmac.compare_digest(given.encode(), self._secret):
            raise ProblemError(
                falcon.HTTP_403,
                "Forbidden",
                f"webhook URLs must carry the '{self.PARAM}' query parameter "
                "(VOICE_WEBHOOK_SECRET)",
            )
