"""Reading form bodies (URL-encoded or multipart) with Falcon 4's media handlers."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_to_bytes

import falcon
from falcon.media import URLEncodedFormHandler
from falcon.media.multipart import MultipartForm

from service.errors import ProblemError

FORM_TYPES = (falcon.MEDIA_URLENCODED, falcon.MEDIA_MULTIPART)

_NON_ASCII_ESCAPE = re.compile(rb"%[89A-Fa-f][0-9A-Fa-f]")


class Utf8FormHandler(URLEncodedFormHandler):
    """Falcon's URL-encoded form handler, refusing percent-escapes that are not UTF-8.

    Falcon decodes escapes with ``errors="replace"``: ``foo=%FF`` would arrive as U+FFFD and
    be stored as if AT had sent it. This handler makes such a body malformed (a 400) first.
    Only a body escaping a byte over 0x7F can be affected, so only such a body is checked.
    """

    def _deserialize(self, body: bytes) -> Any:
        if _NON_ASCII_ESCAPE.search(body):
            try:
                # '&', '=' and '+' are ASCII, never inside a UTF-8 sequence: checking the
                # whole body checks every name and value.
                unquote_to_bytes(body).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise falcon.MediaMalformedError("URL-encoded") from exc
        return super()._deserialize(body)


def install_form_handlers(app: falcon.App[falcon.Request, falcon.Response]) -> None:
    """Make ``req.get_media()`` read URL-encoded forms with :class:`Utf8FormHandler`."""
    app.req_options.media_handlers[falcon.MEDIA_URLENCODED] = Utf8FormHandler()


def read_form(req: falcon.Request) -> dict[str, Any]:
    """The request's form fields; repeated fields come back as lists (the caller refuses them).

    415 for a body that is not a form, 400 for a malformed one (bad percent-encoding,
    non-UTF-8 text, a file where text was expected).
    """
    if not req.content_length:
        return {}
    if req.content_type is None or req.content_type.split(";")[0].strip().lower() not in FORM_TYPES:
        raise ProblemError(
            falcon.HTTP_415,
            "Unsupported Media Type",
            "send form fields as application/x-www-form-urlencoded or multipart/form-data",
        )
    media = req.get_media()
    if isinstance(media, MultipartForm):
        return _multipart_fields(media)
    if not isinstance(media, dict):
        raise ProblemError(falcon.HTTP_400, "Invalid request", "the form could not be read")
    return media


def _multipart_fields(form: MultipartForm) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for part in form:
        if part.filename is not None:
            raise ProblemError(
                falcon.HTTP_400,
                "Invalid request",
                f"{part.name}: must be a text field, not a file",
            )
        try:
            text = part.get_text()
        except (UnicodeDecodeError, falcon.MediaMalformedError) as exc:
            raise ProblemError(
                falcon.HTTP_400, "Invalid request", f"{part.name}: must be UTF-8 text"
            ) from exc
        name = part.name or ""
        if name in fields:
            previous = fields[name]
            fields[name] = [*previous, text] if isinstance(previous, list) else [previous, text]
        else:
            fields[name] = text
    return fields
