"""The admin API's thin resources: read the request, one backend call, a JSON answer."""

from __future__ import annotations

import json
from typing import ClassVar
from urllib.parse import quote

import falcon
import falcon.asgi

from at_voice_kit.contracts import CONTRACTS_DIR, kit_version
from at_voice_kit.simulator.backend.voice import VoiceBackend
from at_voice_kit.simulator.configuration.fields import check_path_phone_number, check_path_username
from at_voice_kit.simulator.configuration.readers import (
    event_faults_document,
    read_account_changes,
    read_callee,
    read_event_faults,
    read_inbound_call,
    read_number_changes,
)
from at_voice_kit.simulator.engine.session_ids import SEEDED_WARNING
from at_voice_kit.simulator.serving.admin.auth import admin_authorised
from at_voice_kit.simulator.serving.admin.errors import (
    BodyTooLarge,
    MalformedJson,
    UnsupportedMediaType,
)
from at_voice_kit.simulator.serving.admin.views import (
    account_view,
    api_request_view,
    call_view,
    callee_view,
    number_view,
    queue_view,
    timeline_so_far,
    timestamp,
    webhook_view,
)
from at_voice_kit.simulator.serving.untrusted_json import load_untrusted_json
from at_voice_kit.simulator.serving.webapp import ADMIN_PREFIX, Surface

JSON = "application/json"
CONTRACT_FILE = CONTRACTS_DIR / "at_voice.yaml"


def send(resp: falcon.asgi.Response, document: object, status: int = 200) -> None:
    """Answer a JSON document."""
    resp.status = status
    resp.content_type = JSON
    resp.text = json.dumps(document)


def send_saved(resp: falcon.asgi.Response, document: object, created: bool, location: str) -> None:
    """Answer a PUT: 201 with ``Location`` if it created the resource, else 200."""
    if created:
        resp.location = location
    send(resp, document, 201 if created else 200)


def admin_location(collection: str, key: str) -> str:
    """The canonical path of one admin resource, for ``Location``: built from the route,
    never from the path as sent (``//_simulator/...`` there reads as another host's URL)."""
    return f"{ADMIN_PREFIX}/{collection}/{quote(key, safe='+@')}"


class AdminResource:
    """An admin resource bound to the backend it reads and changes; it needs the admin token
    (when one is set) unless it says ``open_without_token``."""

    surface: ClassVar[Surface] = Surface.ADMIN
    open_without_token: ClassVar[bool] = False

    def __init__(self, backend: VoiceBackend) -> None:
        self._backend = backend

    async def json_body(self, req: falcon.asgi.Request) -> object:
        """The request's JSON document (a body without ``Content-Type`` is read as JSON)."""
        if req.content_type is not None:
            media_type, _ = falcon.parse_header(req.content_type)
            if media_type.lower() != JSON:
                raise UnsupportedMediaType(f"the body must be {JSON}, not {req.content_type}")
        limit = self._backend.config.max_body_bytes
        if req.content_length is not None and req.content_length > limit:
            raise BodyTooLarge(f"the body is over {limit} bytes")
        body = await req.stream.read(limit + 1)
        if len(body) > limit:
            raise BodyTooLarge(f"the body is over {limit} bytes")
        if req.content_length is not None and len(body) != req.content_length:
            raise MalformedJson(
                f"the body ended after {len(body)} of its {req.content_length} bytes"
            )
        try:
            return load_untrusted_json(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise MalformedJson(f"the body must be a JSON object: {exc}") from None


class HealthResource(AdminResource):
    """``GET /_simulator/health``: is it up, and how is it set (open: probes carry no token).

    The seed is shown only to requests the admin API is open to (no token set, or the token
    given): a seeded run's session ids, hence its recording URLs, follow from the seed.
    """

    open_without_token: ClassVar[bool] = True

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Answer status, version, speed, whether seeded (and the seed) and counts."""
        config = self._backend.config
        document: dict[str, object] = {
            "status": "ok",
            "version": kit_version(),
            "speed": str(config.speed),
            "seeded": config.seed is not None,
        }
        if admin_authorised(req):
            document["seed"] = config.seed
        if config.seed is not None:
            document["warning"] = SEEDED_WARNING
        document.update(
            accounts=len(self._backend.accounts.all()),
            numbers=len(self._backend.numbers.all()),
            calls=len(self._backend.calls.all()),
            liveCalls=self._backend.calls.count_live(),
        )
        send(resp, document)


class ResetResource(AdminResource):
    """``POST /_simulator/reset``: back to the configured start."""

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Reset everything."""
        self._backend.reset()
        send(resp, {"status": "reset"})


class AccountsResource(AdminResource):
    """``GET /_simulator/accounts``."""

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Every account (without API keys)."""
        send(resp, {"accounts": [account_view(a) for a in self._backend.accounts.all()]})


class AccountResource(AdminResource):
    """``GET``/``PUT /_simulator/accounts/{username}``."""

    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, username: str
    ) -> None:
        """One account."""
        send(resp, account_view(self._backend.accounts.get(username)))

    async def on_put(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, username: str
    ) -> None:
        """Create an account (``apiKey`` required) or change its key, balance or currency."""
        check_path_username(username)
        changes = read_account_changes(await self.json_body(req))
        account, created = self._backend.put_account(username, changes)
        send_saved(resp, account_view(account), created, admin_location("accounts", username))


class NumbersResource(AdminResource):
    """``GET /_simulator/numbers``."""

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Every AT number."""
        send(resp, {"numbers": [number_view(n) for n in self._backend.numbers.all()]})


class NumberResource(AdminResource):
    """``GET``/``PUT``/``DELETE /_simulator/numbers/{number}``."""

    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, number: str
    ) -> None:
        """One AT number."""
        send(resp, number_view(self._backend.numbers.get(number)))

    async def on_put(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, number: str
    ) -> None:
        """Create or change an AT number: owner, callback URL, events URL."""
        check_path_phone_number(number)
        changes = read_number_changes(await self.json_body(req))
        saved, created = self._backend.put_number(number, changes)
        send_saved(resp, number_view(saved), created, admin_location("numbers", number))

    async def on_delete(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, number: str
    ) -> None:
        """Remove an AT number."""
        self._backend.numbers.delete(number)
        resp.status = falcon.HTTP_204


class CalleesResource(AdminResource):
    """``GET /_simulator/callees``."""

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """The default behaviour and every number's own."""
        callees = self._backend.callees
        send(
            resp,
            {
                "default": None if callees.default is None else callee_view(callees.default),
                "callees": [callee_view(b, number) for number, b in callees.all()],
            },
        )


class CalleeResource(AdminResource):
    """``GET``/``PUT``/``DELETE /_simulator/callees/{number}``."""

    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, number: str
    ) -> None:
        """A number's own behaviour."""
        send(resp, callee_view(self._backend.callees.get(number), number))

    async def on_put(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, number: str
    ) -> None:
        """Set what the phone at ``number`` does when called (replaces what was set)."""
        check_path_phone_number(number)
        behaviour = read_callee(await self.json_body(req))
        created = self._backend.put_callee(number, behaviour)
        location = admin_location("callees", number)
        send_saved(resp, callee_view(behaviour, number), created, location)

    async def on_delete(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, number: str
    ) -> None:
        """Forget a number's behaviour: it falls back to the default."""
        self._backend.callees.delete(number)
        resp.status = falcon.HTTP_204


class CallsResource(AdminResource):
    """``GET``/``POST /_simulator/calls``."""

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Every call, oldest first."""
        send(resp, {"calls": [call_view(call) for call in self._backend.calls.all()]})

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Simulate an inbound call: ``{"from": phone user, "to": AT number}``."""
        inbound = read_inbound_call(await self.json_body(req))
        call = self._backend.receive_call(inbound.caller, inbound.at_number)
        send_saved(resp, call_view(call), True, admin_location("calls", call.session_id))


class EventFaultsResource(AdminResource):
    """``GET``/``PUT /_simulator/event-faults``: misbehaving events URL deliveries."""

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """The faults in force."""
        send(resp, event_faults_document(self._backend.event_faults))

    async def on_put(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Replace the faults (left-out fields are off); calls started from now use them."""
        faults = read_event_faults(await self.json_body(req))
        self._backend.set_event_faults(faults)
        send(resp, event_faults_document(faults))


class CallResource(AdminResource):
    """``GET /_simulator/calls/{sessionId}``: a call with its journal."""

    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, session_id: str
    ) -> None:
        """The call, the API requests that created or named it, and its webhooks."""
        call = self._backend.calls.get(session_id)
        journal = self._backend.journal
        document = call_view(call)
        document["requests"] = [api_request_view(x) for x in journal.api_requests_for(session_id)]
        document["webhooks"] = [webhook_view(x) for x in journal.webhooks_for(session_id)]
        document["notes"] = [
            {"at": timestamp(at), "event": text} for at, text in timeline_so_far(call, journal)
        ]
        requests_left_out, webhooks_left_out = journal.left_out_for(session_id)
        document["requestsLeftOut"] = requests_left_out
        document["webhooksLeftOut"] = webhooks_left_out
        send(resp, document)


class QueuesResource(AdminResource):
    """``GET /_simulator/queues``."""

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Every known queue with the calls waiting in it."""
        send(resp, {"queues": [queue_view(queue) for queue in self._backend.queues.snapshot()]})


class RequestsResource(AdminResource):
    """``GET /_simulator/requests``: every API request received, oldest first."""

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """The journal of API requests."""
        requests = self._backend.journal.api_requests()
        send(resp, {"requests": [api_request_view(exchange) for exchange in requests]})


class ContractResource:
    """``GET /_simulator/openapi.yaml``: the OpenAPI contract of this server (open: public)."""

    surface: ClassVar[Surface] = Surface.ADMIN
    open_without_token: ClassVar[bool] = True

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """The contract file, as YAML."""
        resp.content_type = "application/yaml"
        resp.text = CONTRACT_FILE.read_text(encoding="utf-8")
