"""The four AT endpoints as thin Falcon resources: pull the fields, make one backend call,
serialise AT's answer (moto's ``responses.py``)."""

from __future__ import annotations

from typing import ClassVar

import falcon
import falcon.asgi

from at_voice_kit.contracts.vocabulary import NONE_STRING, CallStatus
from at_voice_kit.contracts.wire import none_string
from at_voice_kit.simulator.backend.voice import (
    CallPlacement,
    Credentials,
    QueueStatus,
    TransferOutcome,
    VoiceBackend,
)
from at_voice_kit.simulator.serving.rest.wire import (
    JSON,
    MEDIA_UPLOAD_CREATED_TEXT,
    TEXT_PLAIN,
    MethodNotAllowed,
    RequestForm,
    json_text,
    read_form,
    split_phone_numbers,
)
from at_voice_kit.simulator.serving.webapp import Surface

QUEUE_SIZE_HEADER = "X-Current-Queue-Size"


class AtEndpoint:
    """Common ground of the four endpoints: the form read once, and the credentials."""

    surface: ClassVar[Surface] = Surface.REST

    def __init__(self, backend: VoiceBackend) -> None:
        self._backend = backend

    list_fields: frozenset[str] = frozenset()
    """Fields a JSON body may give as a list of strings."""

    async def form(self, req: falcon.asgi.Request) -> RequestForm:
        """The request's form, also kept on ``req.context`` for the journal."""
        form = await read_form(req, self._backend.config.max_body_bytes, self.list_fields)
        req.context.form = form
        req.context.username = form.fields.get("username")
        return form

    @staticmethod
    def credentials(req: falcon.asgi.Request, form: RequestForm) -> Credentials:
        """``username`` from the form and ``apiKey`` from the (case-insensitive) header."""
        return Credentials(form.required("username"), req.get_header("apiKey"))

    async def on_options(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """No CORS pre-flight on AT's API: OPTIONS is a method like any other than POST."""
        raise MethodNotAllowed()


def send_json(resp: falcon.asgi.Response, document: object, status: int = 200) -> None:
    """Answer JSON with ``Content-Type`` exactly ``application/json`` (no charset: the
    official SDK parses the body only then)."""
    resp.status = status
    resp.content_type = JSON
    resp.text = json_text(document)


class CallResource(AtEndpoint):
    """``POST /call``: queue calls from one of the account's numbers."""

    list_fields = frozenset({"to"})

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Answer the entries, one per number in ``to``."""
        form = await self.form(req)
        credentials = self.credentials(req, form)
        caller = form.required("from")
        recipients = split_phone_numbers(form.required("to"))
        placement = self._backend.place_calls(
            credentials, caller, recipients, form.optional("clientRequestId")
        )
        req.context.session_ids = tuple(
            entry.session_id for entry in placement.entries if entry.session_id is not None
        )
        resp.set_header(QUEUE_SIZE_HEADER, str(placement.queue_size))
        send_json(resp, call_document(placement))


def call_document(placement: CallPlacement) -> dict[str, object]:
    """AT's ``/call`` JSON: failed entries carry ``sessionId`` ``"None"``."""
    return {
        "entries": [
            {
                "phoneNumber": entry.phone_number,
                "status": entry.status.value,
                "sessionId": none_string(entry.session_id),
            }
            for entry in placement.entries
        ],
        "errorMessage": none_string(placement.error_message),
    }


class QueueStatusResource(AtEndpoint):
    """``POST /queueStatus``: how many calls wait in each queue of the given numbers."""

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Answer one entry per queue."""
        form = await self.form(req)
        credentials = self.credentials(req, form)
        numbers = split_phone_numbers(form.required("phoneNumbers"))
        send_json(resp, queue_status_document(self._backend.queue_status(credentials, numbers)))


def queue_status_document(status: QueueStatus) -> dict[str, object]:
    """AT's ``/queueStatus`` JSON."""
    return {
        "entries": [
            {
                "phoneNumber": entry.phone_number,
                "queueName": entry.queue_name,
                "numCalls": entry.num_calls,
            }
            for entry in status.entries
        ],
        "errorMessage": none_string(status.error_message),
        "status": "Success" if status.error_message is None else "Failed",
    }


class MediaUploadResource(AtEndpoint):
    """``POST /mediaUpload``: register an audio file for one of the account's numbers."""

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Answer AT's 201 plain text."""
        form = await self.form(req)
        credentials = self.credentials(req, form)
        phone_number = form.required("phoneNumber")
        url = form.required("url")
        self._backend.upload_media(credentials, phone_number, url)
        resp.status = falcon.HTTP_201
        resp.content_type = TEXT_PLAIN
        resp.text = MEDIA_UPLOAD_CREATED_TEXT


class CallTransferResource(AtEndpoint):
    """``POST /callTransfer``: move a leg of a bridged call to another number."""

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Answer AT's wrapped ``callTransferResponse``."""
        form = await self.form(req)
        credentials = self.credentials(req, form)
        session_id = form.required("sessionId")
        phone_number = form.required("phoneNumber")
        req.context.session_ids = (session_id,)
        outcome = self._backend.transfer_call(
            credentials,
            session_id,
            phone_number,
            call_leg=form.optional("callLeg"),
            hold_music_url=form.optional("holdMusicUrl"),
        )
        send_json(resp, transfer_document(outcome))


def transfer_document(outcome: TransferOutcome) -> dict[str, object]:
    """AT's ``/callTransfer`` JSON, wrapped in ``callTransferResponse``."""
    status = CallStatus.SUCCESS if outcome.error_message is None else CallStatus.ABORTED
    return {
        "callTransferResponse": {
            "status": status.value,
            "errorMessage": outcome.error_message or NONE_STRING,
        }
    }
