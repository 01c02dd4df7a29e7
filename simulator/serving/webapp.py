"""The simulator's Falcon ASGI app type, and the surfaces its routes belong to.

Who may use a request, how its errors are written and whether the journal keeps it are
decided on the resource the router dispatched the request to, never on the raw path: the
router reads ``//_simulator/accounts`` as ``/_simulator/accounts``, so a test of the path
string ("does it start with ``/_simulator/``?") and the router can disagree, and a guard
deciding on the string let such paths through to the admin API without its token.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeAlias

import falcon.asgi

SimulatorApp: TypeAlias = falcon.asgi.App[falcon.asgi.Request, falcon.asgi.Response]

ADMIN_PREFIX = "/_simulator"
RECORDINGS_PREFIX = "/recordings"


class Surface(StrEnum):
    """Which HTTP surface a resource belongs to (its class attribute ``surface``)."""

    REST = "rest"
    """AT's voice API: the account's API key, AT's plain-text errors, journaled."""
    RECORDINGS = "recordings"
    """The recordings calls produced: open like AT's media URLs, not journaled."""
    ADMIN = "admin"
    """The admin API: the admin token when one is set, RFC 7807 errors, not journaled."""


_SURFACE_OF_PREFIX = {
    ADMIN_PREFIX.lstrip("/"): Surface.ADMIN,
    RECORDINGS_PREFIX.lstrip("/"): Surface.RECORDINGS,
}


def surface_of(resource: object) -> Surface:
    """The surface of a routed resource; one that does not say is the admin API's, the
    surface whose rules are strictest (a resource added without a marker stays closed)."""
    surface = getattr(resource, "surface", Surface.ADMIN)
    return surface if isinstance(surface, Surface) else Surface.ADMIN


def request_surface(req: falcon.asgi.Request) -> Surface:
    """The surface ``req`` was routed to, as :class:`RouteSurface` noted it.

    A request the router sent nowhere (a 404 whatever it carries) has no resource: its
    error is written in the shape of the surface the router would have looked in, read as
    the router reads paths (leading slashes ignored).
    """
    noted = req.context.get("surface")
    if isinstance(noted, Surface):
        return noted
    first_segment = req.path.lstrip("/").split("/", 1)[0]
    return _SURFACE_OF_PREFIX.get(first_segment, Surface.REST)


class RouteSurface:
    """Falcon middleware noting on ``req.context.surface`` the surface of the resource the
    router chose, for the guard, the error handler and the journal to decide on."""

    async def process_resource(
        self,
        req: falcon.asgi.Request,
        resp: falcon.asgi.Response,
        resource: object,
        params: dict[str, object],
    ) -> None:
        """Note the routed resource's surface."""
        req.context.surface = surface_of(resource)
