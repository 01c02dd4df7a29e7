"""The webhook service as ``atsim demo`` runs it: a real gunicorn process on SQLite.

STYLE allows the demo, and only the demo, to start the service; it does so as users run it in
production (``gunicorn -c python:at_voice_kit.service.gunicorn_conf
'at_voice_kit.service.app:create_app()'``), from the installed package, with a throwaway SQLite
database, an API token and a webhook secret it makes up, and the simulator as its Voice API.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from at_voice_kit.simulator.client.remote import answer_text

START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0
REQUEST_TIMEOUT_SECONDS = 30.0
HISTORY_PAGE = 500


class ServiceFailed(RuntimeError):
    """The service did not start, or answered an error; the message carries its log tail."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """What the demo's service is started with."""

    simulator_url: str
    username: str
    api_key: str
    at_number: str
    workdir: Path
    flow: str = "menu"


class ServiceProcess:
    """The service under gunicorn: start it, call its API, read its history, stop it."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_token = secrets.token_urlsafe(24)
        self.webhook_secret = secrets.token_urlsafe(16)
        self.log_path = settings.workdir / "service.log"
        self.database = settings.workdir / "voice-events.db"
        self._process: subprocess.Popen[bytes] | None = None
        self._http = httpx.Client(
            timeout=REQUEST_TIMEOUT_SECONDS,
            headers={"Authorization": f"Bearer {self.api_token}"},
        )

    @property
    def callback_url(self) -> str:
        """The URL AT (the simulator) posts call callbacks to."""
        return f"{self.url}/voice/instruct?{urlencode({'secret': self.webhook_secret})}"

    @property
    def events_url(self) -> str:
        """The URL AT (the simulator) posts call events to."""
        return f"{self.url}/voice/events?{urlencode({'secret': self.webhook_secret})}"

    def environment(self) -> dict[str, str]:
        """The service's configuration (its environment variables)."""
        settings = self.settings
        return {
            "AT_USERNAME": settings.username,
            "AT_API_KEY": settings.api_key,
            "AT_VOICE_NUMBER": settings.at_number,
            "AT_VOICE_URL": settings.simulator_url,
            "DATABASE_URL": f"sqlite:///{self.database}",
            "VOICE_FLOW_FILE": settings.flow,
            "VOICE_API_TOKEN": self.api_token,
            "VOICE_WEBHOOK_SECRET": self.webhook_secret,
            "VOICE_PUBLIC_URL": self.url,
            "VOICE_WORKERS": "2",
            "VOICE_THREADS": "8",
        }

    def start(self) -> None:
        """Start gunicorn and wait until ``GET /voice/`` answers 200."""
        argv = [
            sys.executable, "-m", "gunicorn", "-c", "python:at_voice_kit.service.gunicorn_conf",
            "--bind", f"127.0.0.1:{self.port}", "at_voice_kit.service.app:create_app()",
        ]  # fmt: skip
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.environment()}
        with open(self.log_path, "wb") as log:
            self._process = subprocess.Popen(
                argv,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.settings.workdir,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ServiceFailed(f"the service exited with {self._process.returncode}")
            try:
                if self._http.get(self.url + "/voice/", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise ServiceFailed(f"the service did not answer within {START_TIMEOUT_SECONDS:g} s")

    def stop(self) -> None:
        """SIGTERM the service's process group; SIGKILL what is left."""
        self._http.close()
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT_SECONDS)

    def log_tail(self, lines: int = 30) -> str:
        """The last lines the service logged."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def invoke_call(self, phone_number: str) -> dict[str, Any]:
        """``POST /voice/invoke-call`` (``phone`` as the service docs write it, no ``+``)."""
        response = self._http.post(
            self.url + "/voice/invoke-call", data={"phone": phone_number.lstrip("+")}
        )
        if response.status_code != 200:
            raise ServiceFailed(
                f"invoke-call answered {response.status_code}: {answer_text(response)}"
            )
        answer: dict[str, Any] = response.json()
        return answer

    def history(self) -> list[dict[str, Any]]:
        """``GET /voice/calls``: every stored call, newest first (following ``next``)."""
        calls: list[dict[str, Any]] = []
        params: dict[str, str | int] = {"limit": HISTORY_PAGE}
        while True:
            response = self._http.get(self.url + "/voice/calls", params=params)
            if response.status_code != 200:
                raise ServiceFailed(
                    f"/voice/calls answered {response.status_code}: {answer_text(response)}"
                )
            page = response.json()
            calls.extend(page["calls"])
            if not page.get("next"):
                return calls
            params = {"limit": HISTORY_PAGE, "cursor": page["next"]}
