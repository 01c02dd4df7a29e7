"""``GET /recordings/{id}.wav``: the recordings a call's ``recordingUrl`` points at.

AT hands apps a URL to fetch each recording from its media host; the simulator serves them
itself, as real WAV files (8 kHz mono 16-bit), generated when fetched. Like AT's, the URLs
need no credentials: an app fetches them with nothing but the URL. The ids carry the
call's session id, unguessable unless the run is seeded (see docs/simulator.md).
"""

from __future__ import annotations

from typing import ClassVar

import falcon
import falcon.asgi

from at_voice_kit.simulator.backend.voice import VoiceBackend
from at_voice_kit.simulator.network import SimulatedNetwork
from at_voice_kit.simulator.serving.rest.wire import RECORDING_METHODS, MethodNotAllowed
from at_voice_kit.simulator.serving.webapp import Surface

WAV = "audio/wav"


class RecordingResource:
    """Serves one recording of the current simulator run; unknown ids are AT's 404."""

    surface: ClassVar[Surface] = Surface.RECORDINGS

    def __init__(self, backend: VoiceBackend) -> None:
        self._backend = backend

    def _find(self, recording_id: str) -> bytes:
        network = self._backend.launcher
        found = network.recording(recording_id) if isinstance(network, SimulatedNetwork) else None
        if found is None:
            raise falcon.HTTPNotFound()
        return found[1]

    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, recording_id: str
    ) -> None:
        """The WAV file."""
        resp.content_type = WAV
        resp.data = self._find(recording_id)

    async def on_head(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, recording_id: str
    ) -> None:
        """The WAV file's headers only."""
        resp.content_type = WAV
        resp.content_length = len(self._find(recording_id))

    async def on_options(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, recording_id: str
    ) -> None:
        """No CORS pre-flight, as on the REST surface."""
        raise MethodNotAllowed(RECORDING_METHODS)
