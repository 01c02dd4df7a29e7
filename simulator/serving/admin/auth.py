"""Who may use the admin API.

Bound to loopback (the default) the admin API is open to local processes, like the rest of a
developer's machine. With an admin token configured (``--admin-token``, ``ATSIM_ADMIN_TOKEN``,
``adminToken:``; ``atsim serve`` makes one up when bound beyond loopback) every admin request
but ``health`` and the contract must carry ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hmac

import falcon.asgi

from at_voice_kit.simulator.serving.admin.errors import AdminUnauthorized

ADMIN_PREFIX = "/_simulator"
OPEN_ADMIN_PATHS = frozenset({f"{ADMIN_PREFIX}/health", f"{ADMIN_PREFIX}/openapi.yaml"})


def is_admin_path(path: str) -> bool:
    """Whether ``path`` belongs to the admin API rather than AT's REST surface."""
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")


class AdminTokenGuard:
    """Falcon middleware refusing admin requests without the token, when one is configured."""

    def __init__(self, token: str | None) -> None:
        self._token = token.encode() if token else None

    async def process_request(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Raise :class:`AdminUnauthorized` unless the request may pass."""
        if self._token is None or not is_admin_path(req.path) or req.path in OPEN_ADMIN_PATHS:
            return
        scheme, _, credentials = (req.get_header("Authorization") or "").partition(" ")
        offered = credentials.strip().encode("utf-8", "replace")
        if scheme.lower() != "bearer" or not hmac.compare_digest(offered, self._token):
            raise AdminUnauthorized()
