"""The admin API's one error handler: every error as an RFC 7807 problem document.

``type`` is a ``urn:atsim:problem:<slug>`` naming the kind of error; validation problems add
``errors``, a list of ``{"field", "rule"}`` naming every broken rule.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from http import HTTPStatus

import falcon
import falcon.asgi

from at_voice_kit.simulator.backend.exceptions import (
    Conflict,
    InvalidSettings,
    NotFound,
    SimulatorError,
)

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class AdminHttpError(Exception):
    """An admin API error that is about HTTP rather than the domain (auth, body, media)."""

    status = 400
    slug = "bad-request"
    title = "Bad Request"

    def __init__(self, detail: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})


class AdminUnauthorized(AdminHttpError):
    """The admin token is required and was missing or wrong (or, with no token set, the
    request came from another machine: ``detail`` says so)."""

    status = 401
    slug = "unauthorized"
    title = "Unauthorized"

    def __init__(
        self, detail: str = "the admin API needs 'Authorization: Bearer <admin token>'"
    ) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="atsim admin"'})


NOT_FROM_THIS_MACHINE = (
    "without an admin token the admin API answers only requests from this machine: start "
    "the simulator with --admin-token or ATSIM_ADMIN_TOKEN, and send it as "
    "'Authorization: Bearer <admin token>'"
)


class MalformedJson(AdminHttpError):
    """A body that is not a JSON document."""

    slug = "malformed-json"


class UnsupportedMediaType(AdminHttpError):
    """A body that is not ``application/json``."""

    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported Media Type"


class BodyTooLarge(AdminHttpError):
    """A body over the configured limit."""

    status = 413
    slug = "body-too-large"
    title = "Content Too Large"


def render_problem(resp: falcon.asgi.Response, error: BaseException) -> None:
    """Write ``error`` on ``resp`` as an RFC 7807 problem document."""
    if isinstance(error, AdminHttpError):
        _problem(resp, error.status, error.slug, error.title, error.detail)
        for name, value in error.headers.items():
            resp.set_header(name, value)
    elif isinstance(error, InvalidSettings):
        errors = [{"field": item.field, "rule": item.rule} for item in error.errors]
        _problem(resp, 422, "invalid-settings", "Unprocessable Content", error.message, errors)
    elif isinstance(error, NotFound):
        _problem(resp, 404, "not-found", "Not Found", error.message)
    elif isinstance(error, Conflict):
        _problem(resp, 409, "conflict", "Conflict", error.message)
    elif isinstance(error, SimulatorError):
        _problem(resp, 400, "bad-request", "Bad Request", error.message)
    elif isinstance(error, falcon.HTTPError):
        title = HTTPStatus(error.status_code).phrase
        detail = error.description or title
        if isinstance(error, falcon.HTTPNotFound):
            detail = "no admin resource at this path"
        _problem(resp, error.status_code, _slug(title), title, detail)
        for name, value in dict(error.headers or {}).items():
            resp.set_header(name, value)
    else:
        log.exception("unexpected error in the admin API", exc_info=error)
        _problem(resp, 500, "internal-error", "Internal Server Error", "unexpected error")


def _slug(title: str) -> str:
    return "-".join(title.lower().split()) or "error"


def _problem(
    resp: falcon.asgi.Response,
    status: int,
    slug: str,
    title: str,
    detail: str,
    errors: list[dict[str, str]] | None = None,
) -> None:
    document: dict[str, object] = {
        "type": f"urn:atsim:problem:{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        document["errors"] = errors
    resp.status = status
    resp.content_type = PROBLEM_JSON
    resp.text = json.dumps(document)
