"""The REST surface's routing table (moto's ``urls.py``): the paths AT's voice host serves."""

from __future__ import annotations

from at_voice_kit.simulator.backend.voice import VoiceBackend
from at_voice_kit.simulator.serving.rest.recordings import RecordingResource
from at_voice_kit.simulator.serving.rest.responses import (
    CallResource,
    CallTransferResource,
    MediaUploadResource,
    QueueStatusResource,
)
from at_voice_kit.simulator.serving.webapp import RECORDINGS_PREFIX, SimulatorApp

REST_PATHS = ("/call", "/queueStatus", "/mediaUpload", "/callTransfer")


def add_rest_routes(app: SimulatorApp, backend: VoiceBackend) -> None:
    """Mount AT's four voice endpoints, and the recordings calls produce, on ``app``."""
    app.add_route("/call", CallResource(backend))
    app.add_route("/queueStatus", QueueStatusResource(backend))
    app.add_route("/mediaUpload", MediaUploadResource(backend))
    app.add_route("/callTransfer", CallTransferResource(backend))
    app.add_route(RECORDINGS_PREFIX + "/{recording_id}", RecordingResource(backend))
