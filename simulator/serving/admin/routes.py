"""The admin API's routing table, under ``/_simulator/``."""

from __future__ import annotations

from at_voice_kit.simulator.backend.voice import VoiceBackend
from at_voice_kit.simulator.serving.admin import responses
from at_voice_kit.simulator.serving.admin.auth import ADMIN_PREFIX
from at_voice_kit.simulator.serving.webapp import SimulatorApp


def add_admin_routes(app: SimulatorApp, backend: VoiceBackend) -> None:
    """Mount the admin API on ``app``."""
    routes: dict[str, object] = {
        "/health": responses.HealthResource(backend),
        "/reset": responses.ResetResource(backend),
        "/accounts": responses.AccountsResource(backend),
        "/accounts/{username}": responses.AccountResource(backend),
        "/numbers": responses.NumbersResource(backend),
        "/numbers/{number}": responses.NumberResource(backend),
        "/callees": responses.CalleesResource(backend),
        "/callees/{number}": responses.CalleeResource(backend),
        "/calls": responses.CallsResource(backend),
        "/calls/{session_id}": responses.CallResource(backend),
        "/queues": responses.QueuesResource(backend),
        "/event-faults": responses.EventFaultsResource(backend),
        "/requests": responses.RequestsResource(backend),
        "/openapi.yaml": responses.ContractResource(),
    }
    for path, resource in routes.items():
        app.add_route(ADMIN_PREFIX + path, resource)
