"""The dashboard's routing table: the page at ``/``, its assets and data under ``/_simulator/``."""

from __future__ import annotations

from at_voice_kit.simulator.backend.voice import VoiceBackend
from at_voice_kit.simulator.serving.dashboard import responses
from at_voice_kit.simulator.serving.dashboard.page import AssetResource, PageResource, load_assets
from at_voice_kit.simulator.serving.webapp import ADMIN_PREFIX, SimulatorApp


def add_dashboard_routes(app: SimulatorApp, backend: VoiceBackend) -> None:
    """Mount the dashboard on ``app``."""
    assets = load_assets()
    app.add_route("/", PageResource(assets))
    app.add_route(ADMIN_PREFIX + "/ui/{name}", AssetResource(assets))
    routes: dict[str, object] = {
        "/board": responses.BoardResource(backend),
        "/board/calls/{session_id}": responses.BoardCallResource(backend),
        "/board/numbers": responses.BoardNumbersResource(backend),
        "/feed": responses.FeedResource(backend),
        "/phones": responses.PhonesResource(backend),
        "/phones/{number}/events": responses.PhoneEventsResource(backend),
        "/phones/{number}/actions": responses.PhoneActionsResource(backend),
        "/phones/{number}/recording": responses.PhoneRecordingResource(backend),
        "/phones/{number}/calls": responses.PhoneCallsResource(backend),
        "/speech/{speech_id}": responses.SpeechResource(backend),
    }
    for path, resource in routes.items():
        app.add_route(ADMIN_PREFIX + path, resource)
