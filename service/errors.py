"""The service's errors: small domain exceptions, and the one place that turns them into HTTP.

Every error leaves as an RFC 7807 problem document (``application/problem+json``) with the
HTTP ``status``, a ``title``, a ``detail`` naming the field and the rule, and, for forms, an
``errors`` list of every bad field.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

import falcon
import falcon.asgi
import sqlalchemy.exc

from at_voice_kit.contracts.phone import InvalidPhoneNumber
from at_voice_kit.service.store.commit_queue import Overloaded
from at_voice_kit.service.store.failures import StoreUnavailable
from at_voice_kit.service.store.queries import InvalidCursor
from at_voice_kit.service.webhook_forms import InvalidForm

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


_PHONE_NUMBER = re.compile(r"\+?\d{4,}(\d{3})")


def mask_numbers(text: str) -> str:
    """``text`` with phone numbers masked to their last three digits, for logs."""
    return _PHONE_NUMBER.sub(lambda match: "***" + match.group(1), text)


class ProblemError(falcon.HTTPError):
    """An HTTP error carrying extra RFC 7807 members (e.g. ``errors``, ``response``)."""

    def __init__(
        self,
        status: str,
        title: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **members: Any,
    ) -> None:
        super().__init__(status, title=title, description=detail, headers=headers)
        self.members = members


class ATCallFailed(Exception):
    """Africa's Talking did not queue the call: it refused it, failed, or could not be reached.

    ``response`` is AT's answer when it gave one (JSON or text), for the client to see.
    """

    def __init__(self, message: str, response: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.response = response


def field_error(field: str, rule: str) -> ProblemError:
    """A 400 naming one field and the rule it breaks."""
    return ProblemError(
        falcon.HTTP_400,
        "Invalid request",
        f"{field}: {rule}",
        errors=[{"field": field, "rule": rule}],
    )


def serialize_problem(req: falcon.Request, resp: falcon.Response, exc: falcon.HTTPError) -> None:
    """Falcon error serializer: every HTTPError as ``application/problem+json``."""
    body: dict[str, Any] = dict(exc.to_dict())
    if isinstance(exc, ProblemError):
        body.update(exc.members)
    problem: dict[str, Any] = {
        "type": "about:blank",
        "title": body.pop("title", exc.status),
        "status": falcon.http_status_to_code(exc.status),
    }
    description = body.pop("description", None)
    if description is not None:
        problem["detail"] = description
    problem.update(body)
    resp.content_type = PROBLEM_JSON
    resp.text = json.dumps(problem)


async def _invalid_form(
    req: falcon.Request, resp: falcon.Response, exc: InvalidForm, params: Any
) -> None:
    raise ProblemError(
        falcon.HTTP_400,
        "Invalid form field",
        str(exc),
        errors=[{"field": p.field, "rule": p.rule} for p in exc.problems],
    )


async def _invalid_phone(
    req: falcon.Request, resp: falcon.Response, exc: InvalidPhoneNumber, params: Any
) -> None:
    raise field_error("phone", f"{exc.value!r} {exc.rule}")


async def _invalid_cursor(
    req: falcon.Request, resp: falcon.Response, exc: InvalidCursor, params: Any
) -> None:
    raise field_error("cursor", "must be a cursor returned by this service in 'next'")


async def _at_call_failed(
    req: falcon.Request, resp: falcon.Response, exc: ATCallFailed, params: Any
) -> None:
    # The service docs promise 500 for "Africa's Talking API error"; keep that contract.
    log.warning(
        "invoke-call: Africa's Talking did not queue the call: %s", mask_numbers(exc.message)
    )
    raise ProblemError(
        falcon.HTTP_500,
        "Africa's Talking API error",
        exc.message,
        response=exc.response,
    )


async def _database_unavailable(
    req: falcon.Request, resp: falcon.Response, exc: Exception, params: Any
) -> None:
    # Nothing was acknowledged: AT (or the client) may retry, and nothing is lost.
    log.error("database error on %s %s: %s", req.method, req.path, exc)
    raise ProblemError(
        falcon.HTTP_503,
        "Service Unavailable",
        "the event store is unavailable; nothing was stored, retry later",
        headers={"Retry-After": "5"},
    )


async def _overloaded(
    req: falcon.Request, resp: falcon.Response, exc: Exception, params: Any
) -> None:
    # Answered before AT gives up (10 s): AT retries later, and nothing of it was stored.
    _OVERLOADS.note()
    raise ProblemError(
        falcon.HTTP_503,
        "Service Unavailable",
        "too many requests are waiting for the event store; nothing was stored, retry later",
        headers={"Retry-After": str(OVERLOAD_RETRY_AFTER_SECONDS)},
    )


OVERLOAD_RETRY_AFTER_SECONDS = 1
"""An overload is a burst: the writer catches up within seconds."""


class _OverloadLog:
    """Counts the requests answered 503 for overload, logged at most every 10 s: under a
    burst, a line per request would cost the very CPU the burst is short of."""

    INTERVAL_SECONDS = 10.0

    def __init__(self) -> None:
        self._count = 0
        self._since = time.monotonic()
        self._logged_at = -self.INTERVAL_SECONDS

    def note(self) -> None:
        self._count += 1
        now = time.monotonic()
        if now - self._logged_at >= self.INTERVAL_SECONDS:
            log.warning(
                "overloaded: %d requests waited too long for the event store's writer and "
                "were answered 503 (nothing of them stored) in the last %.0f s",
                self._count,
                now - self._since,
            )
            self._count, self._since, self._logged_at = 0, now, now


_OVERLOADS = _OverloadLog()


def install_error_handlers(app: falcon.asgi.App[falcon.asgi.Request, falcon.asgi.Response]) -> None:
    """Map domain exceptions to problem documents and serialise every error the same way."""
    app.set_error_serializer(serialize_problem)
    app.add_error_handler(InvalidForm, _invalid_form)
    app.add_error_handler(InvalidPhoneNumber, _invalid_phone)
    app.add_error_handler(InvalidCursor, _invalid_cursor)
    app.add_error_handler(ATCallFailed, _at_call_failed)
    app.add_error_handler(sqlalchemy.exc.OperationalError, _database_unavailable)
    app.add_error_handler(sqlalchemy.exc.InterfaceError, _database_unavailable)
    app.add_error_handler(sqlalchemy.exc.TimeoutError, _database_unavailable)
    # A read-only PostgreSQL transaction (a standby, default_transaction_read_only) and the
    # like: the database's state, not the request's fault.
    app.add_error_handler(sqlalchemy.exc.InternalError, _database_unavailable)
    app.add_error_handler(StoreUnavailable, _database_unavailable)
    app.add_error_handler(Overloaded, _overloaded)
