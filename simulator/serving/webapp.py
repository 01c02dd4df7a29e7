"""The type of the simulator's Falcon ASGI app, shared by the route tables and the factory."""

from __future__ import annotations

from typing import TypeAlias

import falcon.asgi

SimulatorApp: TypeAlias = falcon.asgi.App[falcon.asgi.Request, falcon.asgi.Response]
