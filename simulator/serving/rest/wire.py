"""AT's REST wire at the edge (house principle 7): request bodies in, AT's exact texts out.

AT's voice server is akka-http; where AT's own answer is not known (a wrong method, an
unknown path, an oversized or unparseable body) the simulator answers with akka-http's
default texts, the most plausible thing AT sends. See the fidelity table, docs/fidelity.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeGuard
from urllib.parse import parse_qsl

import falcon
import falcon.asgi
from falcon.media.multipart import MultipartParseError

from at_voice_kit.contracts.charsets import UnsupportedCharset, decode_strictly
from at_voice_kit.simulator.serving.untrusted_json import load_untrusted_json

FORM_URLENCODED = "application/x-www-form-urlencoded"
MULTIPART_FORM = "multipart/form-data"
JSON = "application/json"
TEXT_PLAIN = "text/plain; charset=UTF-8"
"""akka-http's spelling of plain text answers (the official SDK reads them as text)."""
MAX_FORM_FIELDS = 1000

NOT_FOUND_TEXT = "The requested resource could not be found."
INTERNAL_ERROR_TEXT = "There was an internal server error."
MEDIA_UPLOAD_CREATED_TEXT = (
    "The request has been fulfilled and resulted in a new resource being created."
)


class WireError(Exception):
    """A request AT refuses before looking at its meaning: status and plain-text answer."""

    status = 400

    def __init__(self, text: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(text)
        self.text = text
        self.headers = dict(headers or {})


class MissingFormField(WireError):
    """A required form field is absent (or empty)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Request is missing required form field '{name}'")
        self.name = name


class MalformedRequest(WireError):
    """A body that cannot be read as the form it claims to be."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"The request content was malformed:\n{detail}")


class UnsupportedContentType(WireError):
    """A body in a media type AT does not read."""

    status = 415

    def __init__(self, content_type: str) -> None:
        super().__init__(
            f"The request's Content-Type [{content_type}] is not supported. Expected:\n"
            f"{FORM_URLENCODED} or {MULTIPART_FORM} or {JSON}"
        )


class EntityTooLarge(WireError):
    """A body over the configured limit."""

    status = 413

    def __init__(self, limit: int) -> None:
        super().__init__(f"Request Content-Length exceeds the configured limit of {limit} bytes")


RECORDING_METHODS = "GET, HEAD"


class MethodNotAllowed(WireError):
    """A method other than POST on one of the four endpoints (other than GET and HEAD on a
    recording)."""

    status = 405

    def __init__(self, methods: str = "POST") -> None:
        super().__init__(
            f"HTTP method not allowed, supported methods: {methods}", headers={"Allow": methods}
        )


@dataclass(frozen=True, slots=True)
class RequestForm:
    """The fields of a request body, however it was encoded (first value of each name)."""

    fields: Mapping[str, str] = field(default_factory=dict)

    def required(self, name: str) -> str:
        """A field's value; absent or empty is AT's 400 for a missing field."""
        value = self.fields.get(name)
        if value is None or value == "":
            raise MissingFormField(name)
        return value

    def optional(self, name: str) -> str | None:
        """A field's value, ``None`` if absent or empty."""
        return self.fields.get(name) or None


def split_phone_numbers(text: str) -> tuple[str, ...]:
    """AT's comma-separated number lists (``to``, ``phoneNumbers``): items trimmed, empty
    items dropped."""
    return tuple(item for item in (part.strip() for part in text.split(",")) if item)


async def read_form(
    req: falcon.asgi.Request, max_bytes: int, list_fields: frozenset[str] = frozenset()
) -> RequestForm:
    """Read the body as a URL-encoded form, a multipart form, or a JSON object.

    No ``Content-Type`` reads as URL-encoded (what curl and most clients mean). In JSON every
    field is a string, except ``list_fields`` which may also be a list of non-empty strings
    (joined with commas, as the form spells them). Raises :class:`WireError` subclasses for
    bodies AT would refuse.
    """
    if req.content_length is not None and req.content_length > max_bytes:
        raise EntityTooLarge(max_bytes)
    media_type, params = falcon.parse_header(req.content_type or FORM_URLENCODED)
    media_type = media_type.lower()
    if media_type == MULTIPART_FORM:
        return await _read_multipart(req)
    if media_type not in (FORM_URLENCODED, JSON):
        raise UnsupportedContentType(req.content_type or "")
    body = await req.stream.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise EntityTooLarge(max_bytes)
    if req.content_length is not None and len(body) != req.content_length:
        # The client went away mid-body, or was cut off for sending it too slowly: what
        # arrived is not the request (a list of numbers cut short still parses).
        raise MalformedRequest(
            f"the body ended after {len(body)} of its {req.content_length} bytes"
        )
    text = _decoded_text(body, params.get("charset"))
    if media_type == JSON:
        return _json_form(text, list_fields)
    try:
        pairs = parse_qsl(
            text, keep_blank_values=True, errors="strict", max_num_fields=MAX_FORM_FIELDS
        )
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedRequest(f"the form cannot be decoded: {exc}") from None
    return RequestForm(_first_values(pairs))


def _decoded_text(body: bytes, charset: str | None, what: str = "the body") -> str:
    """``body`` decoded as ``charset`` (UTF-8 when none is given); :class:`MalformedRequest`
    unless that is a supported charset (:mod:`at_voice_kit.contracts.charsets`) the bytes are text
    in.

    Only real text charsets are taken: Python's codecs include ones that are no charset at
    all (``rot13``), ones that take minutes over a megabyte (``punycode``) and ones that turn
    ``\\ud800`` into a lone surrogate (``unicode_escape``), which no answer can carry.
    """
    try:
        return decode_strictly(body, charset)
    except UnsupportedCharset as exc:
        raise MalformedRequest(str(exc)) from None
    except UnicodeDecodeError:
        raise MalformedRequest(f"{what} is not valid {charset or 'UTF-8'} text") from None


async def _read_multipart(req: falcon.asgi.Request) -> RequestForm:
    pairs: list[tuple[str, str]] = []
    try:
        form = await req.get_media()
        async for part in form:
            data: bytes = await part.get_data()
            _, options = falcon.parse_header(part.content_type or "text/plain")
            name = part.name or ""
            text = _decoded_text(data, options.get("charset"), f"field '{name}'")
            pairs.append((name, text))
    except (MultipartParseError, falcon.MediaMalformedError, falcon.MediaNotFoundError) as exc:
        raise MalformedRequest(f"the multipart form cannot be read: {exc.description}") from None
    except UnicodeDecodeError:  # a part's headers (its name) are not UTF-8
        raise MalformedRequest("a multipart field's name is not valid UTF-8 text") from None
    return RequestForm(_first_values(pairs))


def _json_form(text: str, list_fields: frozenset[str]) -> RequestForm:
    try:
        document = load_untrusted_json(text)
    except ValueError as exc:
        raise MalformedRequest(f"the body is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise MalformedRequest("the JSON body must be an object of string fields")
    fields: dict[str, str] = {}
    for name, value in document.items():
        if isinstance(value, str):
            fields[name] = value
        elif name in list_fields and _is_list_of_text(value):
            fields[name] = ",".join(value)
        else:
            expected = (
                "a string or a list of non-empty strings" if name in list_fields else "a string"
            )
            raise MalformedRequest(f"field '{name}' must be {expected}")
    return RequestForm(fields)


def _is_list_of_text(value: object) -> TypeGuard[list[str]]:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, str) and item for item in value)
    )


def _first_values(pairs: list[tuple[str, str]]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)
    return fields


def json_text(document: object) -> str:
    """Serialise an answer as AT does: compact JSON (sent as exactly ``application/json``)."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)
