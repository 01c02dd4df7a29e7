"""``uvicorn simulator.asgi:app``: the simulator configured from ``ATSIM_*`` variables."""

from __future__ import annotations

from simulator.app import create_app

app = create_app()
