"""The simulator's ASGI app, built by a factory (house principle 4).

``create_app()`` wires AT's REST surface and the admin API to one
:class:`~at_voice_kit.simulator.backend.voice.VoiceBackend` whose calls a
:class:`~at_voice_kit.simulator.network.SimulatedNetwork` really places. Pass ``backend=`` to share
state with the caller (the pytest plugin, in-process tests): its launcher is used as it is (a bare
``VoiceBackend`` only records the calls it queues). ``at_voice_kit.simulator.serving.asgi`` serves
``create_app()``.
"""

from __future__ import annotations

import os
from typing import Any

import falcon
import falcon.asgi
from falcon.media.multipart import MultipartFormHandler

from at_voice_kit.simulator.backend.platform_config import SimulatorConfig
from at_voice_kit.simulator.backend.voice import VoiceBackend
from at_voice_kit.simulator.configuration.sources import config_from_environment
from at_voice_kit.simulator.network import SimulatedNetwork
from at_voice_kit.simulator.serving.admin.auth import AdminTokenGuard
from at_voice_kit.simulator.serving.admin.errors import render_problem
from at_voice_kit.simulator.serving.admin.routes import add_admin_routes
from at_voice_kit.simulator.serving.dashboard.routes import add_dashboard_routes
from at_voice_kit.simulator.serving.rest.errors import render_rest_error
from at_voice_kit.simulator.serving.rest.journaling import ApiJournal
from at_voice_kit.simulator.serving.rest.routes import add_rest_routes
from at_voice_kit.simulator.serving.rest.wire import MULTIPART_FORM
from at_voice_kit.simulator.serving.webapp import (
    RouteSurface,
    SimulatorApp,
    Surface,
    request_surface,
)

MAX_MULTIPART_PARTS = 64


def create_app(
    config: SimulatorConfig | None = None, *, backend: VoiceBackend | None = None
) -> SimulatorApp:
    """The simulator app for ``config`` (default: from ``ATSIM_*`` variables), placing its
    calls on a simulated network, or for an existing ``backend`` whose state it then shares."""
    if backend is None:
        if config is None:
            config = config_from_environment(os.environ)
        backend = VoiceBackend(config)
        SimulatedNetwork.attach(backend)
    elif config is not None:
        raise ValueError("give create_app a config or a backend, not both")
    middleware: list[Any] = [
        RouteSurface(),  # first: the guard, the journal and the error handler decide on it
        NetworkLifespan(backend),
        ApiJournal(backend),
        AdminTokenGuard(backend.config.admin_token),
    ]
    app: SimulatorApp = falcon.asgi.App(middleware=middleware)
    multipart = app.req_options.media_handlers[MULTIPART_FORM]
    if isinstance(multipart, MultipartFormHandler):
        multipart.parse_options.max_body_part_buffer_size = backend.config.max_body_bytes
        multipart.parse_options.max_body_part_count = MAX_MULTIPART_PARTS
    add_rest_routes(app, backend)
    add_admin_routes(app, backend)
    add_dashboard_routes(app, backend)
    app.add_error_handler(Exception, handle_error)
    app.add_error_handler(falcon.HTTPError, handle_error)
    return app


class NetworkLifespan:
    """Binds the simulated network to the server's event loop at start-up, and cancels the
    live calls (closing the HTTP client) at shutdown (ASGI lifespan events)."""

    def __init__(self, backend: VoiceBackend) -> None:
        self._backend = backend

    async def process_startup(self, scope: object, event: object) -> None:
        """Run calls on the serving loop; open the live streams."""
        self._backend.feed.reopen()
        if isinstance(self._backend.launcher, SimulatedNetwork):
            self._backend.launcher.bind()

    async def process_shutdown(self, scope: object, event: object) -> None:
        """Stop every live call and stream."""
        close_streams(self._backend)
        if isinstance(self._backend.launcher, SimulatedNetwork):
            await self._backend.launcher.aclose()


def close_streams(backend: VoiceBackend) -> None:
    """End every live stream (the feed's and the dev phones'): the server is stopping, and a
    graceful shutdown waits for open responses, which these never finish by themselves."""
    backend.feed.close()
    backend.phones.end_listeners()


async def handle_error(
    req: falcon.asgi.Request, resp: falcon.asgi.Response, error: BaseException, params: object
) -> None:
    """Route an error to its surface's handler: problem documents on the admin API, AT's
    plain texts everywhere else (the surface of the resource the router chose)."""
    if request_surface(req) is Surface.ADMIN:
        render_problem(resp, error)
    else:
        render_rest_error(resp, error)
