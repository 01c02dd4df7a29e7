"""The webhook service's ASGI app, built by a factory.

Production: ``gunicorn -c python:at_voice_kit.service.gunicorn_conf
'at_voice_kit.service.app:create_app()'`` (uvicorn workers, ``service/server.py``). Tests:
``create_app(Config(...))``, optionally with the SDK client or engine injected.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import falcon.asgi
import sqlalchemy as sa
import sqlalchemy.exc

from at_voice_kit.contracts.redaction import masked_url
from at_voice_kit.service.at_client import CallPlacer, VoiceClient, voice_client
from at_voice_kit.service.blocking import BlockingCalls
from at_voice_kit.service.config import Config
from at_voice_kit.service.errors import install_error_handlers
from at_voice_kit.service.flows import CallFlow, load_flow, resolve_flow_path
from at_voice_kit.service.middleware import (
    RequestBodyLimit,
    RequireBearerToken,
    RequireWebhookSecret,
)
from at_voice_kit.service.resources.calls import CallResource, CallsResource
from at_voice_kit.service.resources.events import EventsResource
from at_voice_kit.service.resources.form_body import install_form_handlers
from at_voice_kit.service.resources.instruct import InstructResource
from at_voice_kit.service.resources.invoke_call import InvokeCallResource
from at_voice_kit.service.resources.status import StatusResource
from at_voice_kit.service.store import EventStore, create_database_engine
from at_voice_kit.service.store.failures import StoreUnavailable
from at_voice_kit.service.webhook_forms import load_form_rules

log = logging.getLogger("at_voice_kit.service")


def create_app(
    config: Config | None = None,
    *,
    client: VoiceClient | None = None,
    engine: sa.Engine | None = None,
) -> falcon.asgi.App[falcon.asgi.Request, falcon.asgi.Response]:
    """Build the app: read and check the configuration, migrate the schema, load the flow.

    Anything wrong (a missing variable, an unreachable database, an invalid flow file)
    raises here, at start-up, with a message naming it.
    """
    _ensure_logging()
    config = config if config is not None else Config.from_env()
    store = EventStore(
        engine if engine is not None else _engine_for(config), max_wait=config.max_wait_seconds
    )
    _migrate(store)
    load_form_rules()
    flow = CallFlow(load_flow(resolve_flow_path(config.flow_file)))
    placer = CallPlacer(
        client
        if client is not None
        else voice_client(config.at_username, config.at_api_key, config.at_voice_url),
        config.at_voice_number,
        config.at_timeout_seconds,
    )
    _log_start(config, flow)

    middleware: list[Any] = [
        RequestBodyLimit(config.max_body_bytes),
        RequireBearerToken(config.api_token),
        RequireWebhookSecret(config.webhook_secret),
    ]
    app = falcon.asgi.App(middleware=middleware)
    install_error_handlers(app)
    install_form_handlers(app)
    _add_routes(app, config, store, flow, placer)
    return app


def _add_routes(
    app: falcon.asgi.App[falcon.asgi.Request, falcon.asgi.Response],
    config: Config,
    store: EventStore,
    flow: CallFlow,
    placer: CallPlacer,
) -> None:
    """The routing table: every endpoint of the service and the resource answering it."""
    blocking = BlockingCalls(config.threads)
    status = StatusResource(store, blocking)
    app.add_route("/voice/", status)
    app.add_route("/voice", status)
    app.add_route("/voice/invoke-call", InvokeCallResource(placer, store, blocking))
    app.add_route(
        "/voice/instruct",
        InstructResource(
            store,
            flow,
            strict_fields=config.strict_fields,
            webhook_secret=config.webhook_secret,
            public_url=config.public_url,
        ),
    )
    app.add_route("/voice/events", EventsResource(store, strict_fields=config.strict_fields))
    app.add_route("/voice/calls", CallsResource(store, blocking))
    # A session id may hold a "/" (the webhooks take any printable ASCII): the rest of the path.
    app.add_route("/voice/calls/{session_id:path}", CallResource(store, blocking))


def _engine_for(config: Config) -> sa.Engine:
    return create_database_engine(
        config.database_url,
        pool_size=config.pool_size,
        statement_timeout_ms=config.statement_timeout_ms,
    )


DATABASE_CHECKED_ENV = "VOICE_DATABASE_CHECKED"
"""Set to ``1`` by the gunicorn master once the start-up checks (:mod:`.startup`) succeeded."""


def _migrate(store: EventStore) -> None:
    """Migrate, unless the database is down in a worker started after a checked start-up.

    gunicorn shuts the whole service down when a worker fails to boot. A worker that starts
    during a database outage (replacing one that crashed, or recycled after max_requests)
    therefore starts anyway: readiness and webhooks answer 503 until the database is back,
    and pooled connections reconnect by themselves. The master migrated at start, and
    created the SQLite file if there was none; a worker never creates it (it would replace
    a database deleted meanwhile with an empty one).
    """
    checked = os.environ.get(DATABASE_CHECKED_ENV) == "1"
    try:
        store.migrate(create_missing=not checked)
    except (
        sqlalchemy.exc.OperationalError,
        sqlalchemy.exc.InterfaceError,
        sqlalchemy.exc.InternalError,
        StoreUnavailable,
    ) as exc:
        if not checked:
            raise
        log.error("database unreachable as this worker starts; not ready until it is: %s", exc)


def _ensure_logging() -> None:
    if not logging.getLogger().handlers and not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)


def _log_start(config: Config, flow: CallFlow) -> None:
    # Masked: an AT_VOICE_URL may carry credentials (user:password@, a query), logs keep them.
    target = (config.at_voice_url and masked_url(config.at_voice_url)) or (
        "Africa's Talking sandbox" if config.at_username == "sandbox" else "Africa's Talking (live)"
    )
    log.info(
        "voice service ready: calls via %s from %s, flow %s",
        target,
        config.at_voice_number,
        flow.definition.source,
    )
    if config.is_open:
        log.warning(
            "running OPEN: VOICE_API_TOKEN is not set, so anyone who can reach this port can "
            "place calls and read call history (allowed only against the sandbox or a simulator)"
        )
    if config.webhook_secret is None:
        log.info("webhooks need no secret (set VOICE_WEBHOOK_SECRET to require one)")
