"""A simulator app in-process, and a test client speaking to it as an AT client would."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import falcon.testing

from at_voice_kit.simulator.backend.platform_config import (
    DEFAULT_API_KEY,
    DEFAULT_AT_NUMBER,
    DEFAULT_USERNAME,
    SimulatorConfig,
)
from at_voice_kit.simulator.backend.voice import VoiceBackend
from at_voice_kit.simulator.serving.app import create_app

FORM = "application/x-www-form-urlencoded"
SESSION_ID = re.compile(r"^ATVId_[0-9a-f]{32}$")
KE_NUMBERS = ("+254711082001", "+254711082002", "+254711082003")
UG_NUMBER = "+256772123456"
US_NUMBER = "+14155550100"


@dataclass
class InProcessSimulator:
    """A backend and a Falcon test client on an app built on it (one shared state)."""

    config: SimulatorConfig = field(default_factory=lambda: SimulatorConfig(seed=7))
    backend: VoiceBackend = field(init=False)
    client: falcon.testing.TestClient = field(init=False)

    def __post_init__(self) -> None:
        self.backend = VoiceBackend(self.config)
        self.client = falcon.testing.TestClient(create_app(backend=self.backend))

    def post(
        self,
        path: str,
        fields: Mapping[str, str],
        api_key: str | None = DEFAULT_API_KEY,
        header: str = "apiKey",
    ) -> falcon.testing.Result:
        """POST a URL-encoded form the way the official SDK does."""
        headers = {"Accept": "application/json", "Content-Type": FORM}
        if api_key is not None:
            headers[header] = api_key
        return self.client.simulate_post(path, body=urlencode(fields), headers=headers)

    def call(self, *numbers: str, **extra: str) -> falcon.testing.Result:
        """``/call`` from the default number to ``numbers``."""
        fields = {"username": DEFAULT_USERNAME, "from": DEFAULT_AT_NUMBER, "to": ",".join(numbers)}
        return self.post("/call", {**fields, **extra})

    def admin(self, method: str, path: str, **kwargs: Any) -> falcon.testing.Result:
        """A request to the admin API (``path`` relative to ``/_simulator/``)."""
        return self.client.simulate_request(method, f"/_simulator/{path}", **kwargs)
