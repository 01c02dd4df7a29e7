"""The dashboard's page (``GET /``) and its assets (``GET /_simulator/ui/{name}``).

Open without the admin token, like ``health`` and the contract: they hold no data (the page
asks for the token when the data endpoints refuse it) and a browser must be able to load
them to ask. Only the files shipped in :mod:`at_voice_kit.simulator.serving.dashboard.static`
are served, by exact name.
"""

from __future__ import annotations

from importlib import resources
from typing import ClassVar

import falcon
import falcon.asgi

from at_voice_kit.simulator.serving.webapp import Surface

ASSET_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
PAGE = "index.html"
SECURITY_HEADERS = {
    # Everything the page uses comes from this server (no CDN); inline scripts never run.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "media-src 'self' blob: http: https:; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def load_assets() -> dict[str, bytes]:
    """Every asset shipped with the package, by file name."""
    folder = resources.files("at_voice_kit.simulator.serving.dashboard.static")
    return {
        entry.name: entry.read_bytes()
        for entry in folder.iterdir()
        if entry.is_file() and any(entry.name.endswith(suffix) for suffix in ASSET_TYPES)
    }


class _AssetServer:
    surface: ClassVar[Surface] = Surface.ADMIN
    open_without_token: ClassVar[bool] = True

    def __init__(self, assets: dict[str, bytes]) -> None:
        self._assets = assets

    def _send(self, resp: falcon.asgi.Response, name: str) -> None:
        body = self._assets.get(name)
        suffix = "." + name.rpartition(".")[2]
        if body is None or suffix not in ASSET_TYPES:
            raise falcon.HTTPNotFound()
        resp.content_type = ASSET_TYPES[suffix]
        resp.data = body
        for header, value in SECURITY_HEADERS.items():
            resp.set_header(header, value)


class PageResource(_AssetServer):
    """``GET /``: the dashboard."""

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """The page."""
        self._send(resp, PAGE)


class AssetResource(_AssetServer):
    """``GET /_simulator/ui/{name}``: a stylesheet or script of the page."""

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, name: str) -> None:
        """One asset, by exact name."""
        self._send(resp, name)
