"""Reading form bodies (URL-encoded or multipart) with Falcon 4's media handlers.

Every field arrives as UTF-8 text, or the request is a 400 naming the field: a form whose
text the service would have to guess at (another charset, a file, a part that is not
text/plain) is refused before anything of it is stored.
"""

from __future__ import annotations

import io
import re
from typing import Any
from urllib.parse import unquote_to_bytes

import falcon
import falcon.asgi
from falcon.media import URLEncodedFormHandler
from falcon.media.multipart import BodyPart, MultipartForm

from at_voice_kit.contracts.charsets import UTF8_READABLE, charset_named
from at_voice_kit.service.errors import ProblemError, field_error

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


def install_form_handlers(app: falcon.asgi.App[falcon.asgi.Request, falcon.asgi.Response]) -> None:
    """Read URL-encoded forms with :class:`Utf8FormHandler` (:func:`read_form` picks it)."""
    app.req_options.media_handlers[falcon.MEDIA_URLENCODED] = Utf8FormHandler()


async def read_form(req: falcon.asgi.Request) -> dict[str, Any]:
    """The request's form fields; repeated fields come back as lists (the caller refuses them).

    415 for a body that is not a form, 400 for a malformed one (bad percent-encoding,
    non-UTF-8 text, a file where text was expected). The body is read whole (its length is
    bounded by ``VOICE_MAX_BODY_BYTES`` and the time it may take by the server's read
    timeout) and parsed without awaiting again.
    """
    if not req.content_length:
        return {}
    media_type, options = falcon.parse_header(req.content_type or "")
    media_type = media_type.strip().lower()
    if media_type not in FORM_TYPES:
        raise ProblemError(
            falcon.HTTP_415,
            "Unsupported Media Type",
            "send form fields as application/x-www-form-urlencoded or multipart/form-data",
        )
    if media_type == falcon.MEDIA_URLENCODED and not _reads_as_utf8(options.get("charset")):
        # The form's escapes are read as UTF-8: text in another charset would be misread.
        raise ProblemError(
            falcon.HTTP_400,
            "Invalid request",
            f"a URL-encoded form must be in UTF-8 (or US-ASCII), not {req.content_type!r}",
        )
    # The handler is picked here by the media type in lower case: a media type is
    # case-insensitive (RFC 9110), and Falcon's own lookup (req.get_media) is not.
    handler = req.options.media_handlers[media_type]
    body = await req.stream.read()
    if len(body) != req.content_length:
        # The client went away mid-body (or was cut off for sending it too slowly): what
        # arrived is not the request, however well it parses.
        raise ProblemError(
            falcon.HTTP_400,
            "Invalid request",
            f"the body ended after {len(body)} of its {req.content_length} bytes (Content-Length)",
        )
    media = handler.deserialize(io.BytesIO(body), req.content_type, len(body))
    if isinstance(media, MultipartForm):
        return _multipart_fields(media)
    if not isinstance(media, dict):
        raise ProblemError(falcon.HTTP_400, "Invalid request", "the form could not be read")
    return media


def _multipart_fields(form: MultipartForm) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for part in form:
        try:
            name, filename = part.name or "", part.filename
        except UnicodeDecodeError as exc:
            raise ProblemError(
                falcon.HTTP_400,
                "Invalid request",
                "a part's Content-Disposition header must be UTF-8 text",
            ) from exc
        if filename is not None:
            raise field_error(name, "must be a text field, not a file")
        text = _part_text(part, name)
        if name in fields:
            previous = fields[name]
            fields[name] = [*previous, text] if isinstance(previous, list) else [previous, text]
        else:
            fields[name] = text
    return fields


def _part_text(part: BodyPart, name: str) -> str:
    """The part's text: text/plain (the default) in UTF-8, or a 400 naming the field.

    Falcon would decode with whatever codec the part names (``charset=utf-7``, or
    ``unicode_escape``, which turns ``\\ud800`` into a lone surrogate that no JSON answer
    can carry): only UTF-8 and ASCII are taken.
    """
    media_type, options = falcon.parse_header(part.content_type or "text/plain")
    if media_type.strip().lower() != "text/plain" or not _reads_as_utf8(options.get("charset")):
        raise field_error(name, f"must be text/plain in UTF-8, not {part.content_type!r}")
    try:
        return part.data.decode("utf-8")
    except (UnicodeDecodeError, falcon.MediaMalformedError) as exc:
        raise field_error(name, "must be UTF-8 text") from exc


def _reads_as_utf8(charset: str | None) -> bool:
    """Whether a declared ``charset`` (``None``: none declared) is UTF-8 or US-ASCII, by the
    aliases of :mod:`at_voice_kit.contracts.charsets`: the only text the service stores is UTF-8."""
    return charset is None or charset_named(charset) in UTF8_READABLE
