"""``uvicorn at_voice_kit.simulator.serving.asgi:app``: the simulator configured from ``ATSIM_*``
variables."""

from __future__ import annotations

from at_voice_kit.simulator.serving.app import create_app

app = create_app()
