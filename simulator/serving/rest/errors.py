"""The REST surface's one error handler: domain and wire errors as AT's plain-text answers."""

from __future__ import annotations

import logging

import falcon
import falcon.asgi

from at_voice_kit.simulator.backend.exceptions import (
    AuthenticationFailed,
    InvalidMediaUrl,
    NumberNotOwned,
    SimulatorError,
)
from at_voice_kit.simulator.serving.rest.wire import (
    INTERNAL_ERROR_TEXT,
    NOT_FOUND_TEXT,
    RECORDING_METHODS,
    TEXT_PLAIN,
    MethodNotAllowed,
    WireError,
)

log = logging.getLogger(__name__)

_DOMAIN_STATUS: dict[type[SimulatorError], int] = {
    AuthenticationFailed: 401,
    NumberNotOwned: 403,
    InvalidMediaUrl: 400,
}


def render_rest_error(resp: falcon.asgi.Response, error: BaseException) -> None:
    """Write ``error`` on ``resp`` the way AT's voice server answers it."""
    if isinstance(error, falcon.HTTPMethodNotAllowed):
        allowed = dict(error.headers or {}).get("Allow", "")
        error = MethodNotAllowed(RECORDING_METHODS if "GET" in allowed else "POST")
    if isinstance(error, WireError):
        _plain(resp, error.status, error.text)
        for name, value in error.headers.items():
            resp.set_header(name, value)
    elif isinstance(error, SimulatorError):
        _plain(resp, _DOMAIN_STATUS.get(type(error), 400), error.message)
    elif isinstance(error, falcon.HTTPNotFound):
        _plain(resp, 404, NOT_FOUND_TEXT)
    elif isinstance(error, falcon.HTTPError):
        _plain(resp, error.status_code, error.description or error.title)
        for name, value in dict(error.headers or {}).items():
            resp.set_header(name, value)
    else:
        log.exception("unexpected error on the REST surface", exc_info=error)
        _plain(resp, 500, INTERNAL_ERROR_TEXT)


def _plain(resp: falcon.asgi.Response, status: int, text: str) -> None:
    resp.status = status
    resp.content_type = TEXT_PLAIN
    resp.text = text
