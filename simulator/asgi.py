"""``uvicorn at_voice_kit.simulator.asgi:app``: the simulator configured from ``ATSIM_*``
variables."""

from __future__ import annotations

from at_voice_kit.simulator.app import create_app

app = create_app()
