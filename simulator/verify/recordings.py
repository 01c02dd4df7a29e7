"""Serving the run's recordings, so an app that downloads ``recordingUrl`` can.

Apps often fetch the recording they are told about (to store or transcribe it). AT serves
it; during a verification :class:`RecordingServer` does, on a loopback port, with the
engine's :class:`~at_voice_kit.simulator.engine.recordings.RecordingStore` (real WAV files).

A verification's session ids follow from its seed, which the report prints (so a run can be
repeated): the recordings' path therefore starts with a secret of the run's own, and only
the app, told the URL, can fetch them; another local user who read the seed cannot.
"""

from __future__ import annotations

import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from at_voice_kit.simulator.engine.recordings import RecordingStore


class RecordingServer:
    """A background HTTP server for one run's recordings (``with RecordingServer() as rs``)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.store: RecordingStore | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> RecordingStore:
        handler = _handler_for(self)
        self._server = ThreadingHTTPServer((self.host, 0), handler)
        self._server.daemon_threads = True
        port = self._server.server_address[1]
        secret = secrets.token_urlsafe(16)
        self.store = RecordingStore(f"http://{self.host}:{port}", f"/{secret}/recordings")
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="atsim-verify-recordings", daemon=True
        )
        self._thread.start()
        return self.store

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _handler_for(owner: RecordingServer) -> type[BaseHTTPRequestHandler]:
    class RecordingHandler(BaseHTTPRequestHandler):
        server_version = "atsim-verify"

        def do_GET(self) -> None:
            self._answer(with_body=True)

        def do_HEAD(self) -> None:
            self._answer(with_body=False)

        def _answer(self, *, with_body: bool) -> None:
            store = owner.store
            recording = store.for_path(self.path.split("?", 1)[0]) if store else None
            wav = store.wav(recording.recording_id) if store and recording else None
            if wav is None:
                self.send_error(404, "no such recording")
                return
            self.send_response(200)
            self.send_header("Content-Type", "audio/wav")
            self.send_header("Content-Length", str(len(wav)))
            self.end_headers()
            if with_body:
                self.wfile.write(wav)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the report says what matters."""

    return RecordingHandler
