"""Who may use the admin API.

Bound to loopback (the default) the admin API is open to local processes, like the rest of a
developer's machine. With an admin token configured (``--admin-token``, ``ATSIM_ADMIN_TOKEN``,
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

import falcon.asgi

from at_voice_kit.simulator.serving.admin.errors import AdminUnauthorized
from at_voice_kit.simulator.serving.webapp import ADMIN_PREFIX, Surface, surface_of

__all__ = ["ADMIN_PREFIX", "AdminTokenGuard", "admin_authorised", "needs_admin_token"]


def needs_admin_token(resource: object) -> bool:
    """Whether ``resource`` is closed to requests without the admin token (when one is set).

    Admin resources are, unless they say ``open_without_token`` (health, the contract); AT's
    REST surface has the account's API key and recordings are open, like AT's.
    """
    if surface_of(resource) is not Surface.ADMIN:
        return False
    return getattr(resource, "open_without_token", False) is not True


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
        authorised = self._token is None or self._carries_token(req)
        req.context.admin_authorised = authorised
        if not authorised and needs_admin_token(resource):
            raise AdminUnauthorized()

    def _carries_token(self, req: falcon.asgi.Request) -> bool:
        assert self._token is not None
        scheme, _, credentials = (req.get_header("Authorization") or "").partition(" ")
        offered = credentials.strip().encode("utf-8", "replace")
        return scheme.lower() == "bearer" and hmac.compare_digest(offered, self._token)
