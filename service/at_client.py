"""Placing outbound calls through the official ``africastalking`` SDK.

The SDK has no host option; for the simulator (``AT_VOICE_URL``) its ``_baseUrl`` is set on
this service's own :class:`VoiceService` instance (never the SDK's module-level global, so two
apps in one process cannot interfere).
"""

from __future__ import annotations

import json
from typing import Any, Protocol

import requests
from africastalking.Service import DEFAULT_TIMEOUT_S, AfricasTalkingException
from africastalking.Voice import VoiceService

from at_voice_kit.contracts.charsets import charset_parameter, decode_leniently
from at_voice_kit.contracts.vocabulary import NONE_STRING, EntryStatus
from at_voice_kit.service.errors import ATCallFailed

CONNECT_TIMEOUT_SECONDS = 3.05


class VoiceClient(Protocol):
    """The part of the SDK's ``VoiceService`` this service uses."""

    def call(self, callFrom: str, callTo: list[str], timeout: Any = ...) -> Any: ...


class AllowListedVoiceService(VoiceService):  # type: ignore[misc]  # the SDK is untyped
    """The SDK's voice client, reading AT's answers only in an allow-listed charset.

    The SDK hands back ``requests``' ``response.text``, which decodes the body with whatever
    codec the answer's ``Content-Type`` names (looked up in Python's registry, where
    ``punycode`` is quadratic: a megabyte held a worker for minutes). This posts the same
    request and reads the answer as the SDK does, with :mod:`at_voice_kit.contracts.charsets`
    instead: JSON when the ``Content-Type`` is exactly ``application/json``, else the text (an
    unsupported charset read as UTF-8, bad bytes replaced), an error status raised as the SDK's
    :class:`AfricasTalkingException` with that text.
    """

    def _make_request(  # type: ignore[no-untyped-def]  # the SDK's own signature
        self, url, method, headers, data, params, callback=None, timeout=DEFAULT_TIMEOUT_S
    ) -> Any:
        if callback is not None or method.upper() != "POST":
            return super()._make_request(url, method, headers, data, params, callback, timeout)
        response = requests.post(url, headers=headers, params=params, data=data, timeout=timeout)
        content_type = response.headers.get("content-type")
        if not 200 <= response.status_code < 300:
            raise AfricasTalkingException(_answer_text(response.content, content_type))
        if content_type == "application/json":
            return response.json()
        return _answer_text(response.content, content_type)


def _answer_text(body: bytes, content_type: str | None) -> str:
    return decode_leniently(body, charset_parameter(content_type))


def voice_client(username: str, api_key: str, base_url: str | None) -> VoiceService:
    """An SDK voice client for this account, pointed at ``base_url`` when given."""
    client = AllowListedVoiceService(username, api_key)
    if base_url is not None:
        client._baseUrl = base_url
    return client


class CallPlacer:
    """Places one outbound call from the service's AT number and checks AT queued it."""

    def __init__(self, client: VoiceClient, caller_id: str, timeout_seconds: float) -> None:
        self._client = client
        self._caller_id = caller_id
        self._timeout = (min(CONNECT_TIMEOUT_SECONDS, timeout_seconds), timeout_seconds)

    @property
    def caller_id(self) -> str:
        """The AT number calls are placed from (E.164)."""
        return self._caller_id

    def place(self, phone_number: str) -> dict[str, Any]:
        """Ask AT to call ``phone_number`` (E.164); return AT's answer when the call is queued.

        Raises :class:`ATCallFailed` when AT is unreachable, times out, answers non-2xx or
        something other than JSON, or does not queue the entry.
        """
        try:
            answer = self._client.call(self._caller_id, [phone_number], timeout=self._timeout)
        except AfricasTalkingException as exc:
            raise ATCallFailed(f"Africa's Talking answered with an error: {exc}", str(exc)) from exc
        except requests.JSONDecodeError as exc:
            # Declared application/json, but not JSON: AT answered, so it is not "unreachable".
            body = exc.doc if isinstance(exc.doc, str) else None
            raise ATCallFailed("Africa's Talking answered something other than JSON", body) from exc
        except requests.Timeout as exc:
            raise ATCallFailed("Africa's Talking did not answer in time") from exc
        except requests.RequestException as exc:
            raise ATCallFailed(f"Africa's Talking is unreachable: {exc}") from exc
        answer = _as_json(answer)
        if not isinstance(answer, dict):
            raise ATCallFailed("Africa's Talking answered something other than JSON", answer)
        _check_queued(answer, phone_number)
        return answer


def _as_json(answer: Any) -> Any:
    """The SDK decodes AT's answer only when its ``Content-Type`` is exactly
    ``application/json``; with a parameter (``; charset=utf-8``) it hands back the text.
    That text is still AT's JSON answer, and the call it reports may be queued already."""
    if isinstance(answer, str):
        try:
            return json.loads(answer)
        except ValueError:
            return answer
    return answer


def _check_queued(answer: dict[str, Any], phone_number: str) -> None:
    entries = answer.get("entries")
    error = answer.get("errorMessage", NONE_STRING)
    if not isinstance(entries, list) or not entries:
        reason = error if error not in (None, NONE_STRING) else "no entries in the answer"
        raise ATCallFailed(f"Africa's Talking did not queue the call: {reason}", answer)
    for entry in entries:
        status = entry.get("status") if isinstance(entry, dict) else None
        if status != EntryStatus.QUEUED:
            raise ATCallFailed(
                f"Africa's Talking did not queue the call to {phone_number}: {status}", answer
            )
