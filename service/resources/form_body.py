"""Reading form bodies (URL-encoded or multipart) with Falcon 4's media handlers."""

from __future__ import annotations

from typing import Any

import falcon
from falcon.media.multipart import MultipartForm

from service.errors import ProblemError

FORM_TYPES = (falcon.MEDIA_URLENCODED, falcon.MEDIA_MULTIPART)


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
