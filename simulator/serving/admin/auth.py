"""Who may use the admin API.

Bound to loopback (the default) the admin API is open to local processes, like the rest of a
developer's machine. Without a token it answers admin requests from this machine only (the
peer's address is a loopback one, or a Unix socket): served some other way than ``atsim
serve`` (``uvicorn ...serving.asgi:app --host 0.0.0.0``), the app cannot see where it is
bound, and anyone reaching the port could otherwise set accounts' keys. With an admin token
configured (``--admin-token``, ``ATSIM_ADMIN_TOKEN``,
``adminToken:``; ``atsim serve`` makes one up when bound beyond loopback) every admin request
but ``health`` and the contract must carry ``Authorization: Bearer <token>``.

The decision is made on the resource the router dispatched the request to (its
:class:`~at_voice_kit.simulator.serving.webapp.Surface` and ``open_without_token``), never on the
path as sent: ``//_simulator/accounts``, ``/%2F_simulator/accounts`` and any other spelling the
router accepts reach the same resource and meet the same guard; a spelling it does not accept
reaches no resource and is a 404.
"""

from __future__ import annotations

import hmac
import ipaddress

import falcon.asgi

from at_voice_kit.simulator.serving.admin.errors import NOT_FROM_THIS_MACHINE, AdminUnauthorized
from at_voice_kit.simulator.serving.webapp import ADMIN_PREFIX, Surface, surface_of

__all__ = [
    "ADMIN_PREFIX",
    "AdminTokenGuard",
    "admin_authorised",
    "from_this_machine",
    "needs_admin_token",
]


def needs_admin_token(resource: object) -> bool:
    """Whether ``resource`` is closed to requests without the admin token (when one is set).

    Admin resources are, unless they say ``open_without_token`` (health, the contract); AT's
    REST surface has the account's API key and recordings are open, like AT's.
    """
    if surface_of(resource) is not Surface.ADMIN:
        return False
    return getattr(resource, "open_without_token", False) is not True


def from_this_machine(req: falcon.asgi.Request) -> bool:
    """Whether the peer of ``req``'s connection is on this machine: a loopback address, or
    none known (a Unix socket). Falcon's ``remote_addr`` is the connection's peer as the
    server accepted it (the last hop of the access route), never a header's claim. A peer
    that is no address at all comes from no network: in-process test transports name
    themselves (``testclient``); a server on a TCP socket always gives the address."""
    try:
        address = ipaddress.ip_address(req.remote_addr)
    except ValueError:
        return True
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def admin_authorised(req: falcon.asgi.Request) -> bool:
    """Whether ``req`` may see everything the admin API shows (as :class:`AdminTokenGuard`
    decided: no token is set, or the request carries it)."""
    return req.context.get("admin_authorised") is True


class AdminTokenGuard:
    """Falcon middleware refusing admin requests without the token, when one is configured."""

    def __init__(self, token: str | None) -> None:
        self._token = token.encode() if token else None

    async def process_resource(
        self,
        req: falcon.asgi.Request,
        resp: falcon.asgi.Response,
        resource: object,
        params: dict[str, object],
    ) -> None:
        """Raise :class:`AdminUnauthorized` unless the routed resource may be used."""
        authorised = from_this_machine(req) if self._token is None else self._carries_token(req)
        req.context.admin_authorised = authorised
        if not authorised and needs_admin_token(resource):
            raise AdminUnauthorized() if self._token else AdminUnauthorized(NOT_FROM_THIS_MACHINE)

    def _carries_token(self, req: falcon.asgi.Request) -> bool:
        assert self._token is not None
        scheme, _, credentials = (req.get_header("Authorization") or "").partition(" ")
        offered = credentials.strip().encode("utf-8", "replace")
        return scheme.lower() == "bearer" and hmac.compare_digest(offered, self._token)
