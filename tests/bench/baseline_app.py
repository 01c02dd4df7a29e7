"""The benchmark's baselines: minimal Falcon apps answering the service's routes with no work.

Two of them, one per server model: :func:`create_app` (WSGI) runs under gunicorn's threaded
workers (``gthread``, 16 threads), the usual stack the throughput targets are set against;
:func:`create_asgi_app` (ASGI) runs under the service's own workers (uvicorn on uvloop and
httptools, ``service/gunicorn_conf.py``), so the service's overhead over a bare app on the
server model it ships shows rung by rung. Both answer the same bodies (``OK`` for events,
the welcome flow's ActionXML for callbacks, the status document), computed once at start-up.
They read no form, validate nothing and store nothing, so the service's throughput as a
fraction of theirs is the cost of everything the service does on top of HTTP and Falcon.

``gunicorn -c python:at_voice_kit.service.gunicorn_conf
'tests.bench.baseline_app:create_asgi_app()'``
"""

from __future__ import annotations

import falcon
import falcon.asgi

from at_voice_kit.service.flows import CallFlow, StepUrls, load_flow, resolve_flow_path
from at_voice_kit.service.webhook_forms import parse_callback

SAMPLE_CALLBACK = {
    "sessionId": "ATVId_baseline",
    "isActive": "1",
    "callerNumber": "+254711082369",
    "destinationNumber": "+254711082000",
}


def welcome_actionxml() -> str:
    """What the service's default flow answers to a call's first callback request."""
    flow = CallFlow(load_flow(resolve_flow_path(None)))
    return flow.respond(
        parse_callback(SAMPLE_CALLBACK), None, StepUrls("http://127.0.0.1/voice/instruct")
    )


class ConstantText:
    """Answers every POST with the same text/plain body."""

    def __init__(self, body: str) -> None:
        self._body = body

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """The constant body; the request body is left unread, as a no-work app would."""
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = self._body


class ReadyStatus:
    """``GET /voice/``: the documented status document, without asking any database."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Always ready."""
        resp.media = {"service": "voice", "status": "ready"}


def create_app() -> falcon.App[falcon.Request, falcon.Response]:
    """The baseline WSGI app."""
    app = falcon.App()
    status = ReadyStatus()
    app.add_route("/voice/", status)
    app.add_route("/voice", status)
    app.add_route("/voice/instruct", ConstantText(welcome_actionxml()))
    app.add_route("/voice/events", ConstantText("OK"))
    return app


class AsyncConstantText:
    """Answers every POST with the same text/plain body, on the event loop."""

    def __init__(self, body: str) -> None:
        self._body = body

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """The constant body; the request body is left unread, as a no-work app would."""
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = self._body


class AsyncReadyStatus:
    """``GET /voice/`` on the event loop, without asking any database."""

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Always ready."""
        resp.media = {"service": "voice", "status": "ready"}


def create_asgi_app() -> falcon.asgi.App:
    """The baseline ASGI app: the same routes and answers as :func:`create_app`."""
    app = falcon.asgi.App()
    status = AsyncReadyStatus()
    app.add_route("/voice/", status)
    app.add_route("/voice", status)
    app.add_route("/voice/instruct", AsyncConstantText(welcome_actionxml()))
    app.add_route("/voice/events", AsyncConstantText("OK"))
    return app
