"""schemathesis 4 runs ``contracts/at_voice.yaml`` against the simulator, in-process (ASGI),
with every check, positive and negative data, and must find nothing."""

from __future__ import annotations

import schemathesis

import simulator.schemathesis_hooks  # noqa: F401  (registers the at-phone-number format)
from simulator.app import create_app
from simulator.backend.voice import VoiceBackend
from simulator.config import DEFAULT_API_KEY, SimulatorConfig

backend = VoiceBackend(SimulatorConfig(seed=1))
schema = schemathesis.openapi.from_asgi("/_simulator/openapi.yaml", create_app(backend=backend))


@schema.parametrize()
def test_simulator_keeps_its_contract(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"apiKey": DEFAULT_API_KEY})
