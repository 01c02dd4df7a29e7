"""``contracts/at_voice.yaml`` says what the server enforces: the patterns in the contract are
the simulator's own, and every route the simulator serves is in the contract."""

from __future__ import annotations

from typing import Any

import yaml

from at_voice_kit.contracts import CONTRACTS_DIR
from at_voice_kit.simulator import settings
from at_voice_kit.simulator.app import create_app
from at_voice_kit.simulator.config import SimulatorConfig

CONTRACT: dict[str, Any] = yaml.safe_load((CONTRACTS_DIR / "at_voice.yaml").read_text("utf-8"))
SCHEMAS: dict[str, Any] = CONTRACT["components"]["schemas"]


def test_the_contract_is_openapi_3_1_and_lists_only_the_simulator_as_server() -> None:
    assert CONTRACT["openapi"] == "3.1.0"
    assert [server["url"] for server in CONTRACT["servers"]] == ["http://127.0.0.1:5001"]


def test_patterns_are_the_ones_the_simulator_enforces() -> None:
    account = SCHEMAS["AccountSettings"]["properties"]
    callee = SCHEMAS["CalleeSettings"]["properties"]
    assert SCHEMAS["PhoneNumber"]["pattern"] == settings.PHONE_NUMBER_PATTERN
    assert SCHEMAS["Url"]["pattern"] == settings.URL_PATTERN
    assert SCHEMAS["Username"]["pattern"] == settings.USERNAME_PATTERN
    assert SCHEMAS["MediaUploadForm"]["properties"]["url"]["pattern"] == settings.MEDIA_URL_PATTERN
    assert account["apiKey"]["pattern"] == settings.API_KEY_PATTERN
    assert account["currency"]["pattern"] == settings.CURRENCY_PATTERN
    assert account["balance"]["anyOf"][1]["pattern"] == settings.DECIMAL_PATTERN
    assert callee["digits"]["items"]["pattern"] == settings.DIGITS_PATTERN
    assert callee["digits"]["maxItems"] == settings.MAX_DIGIT_INPUTS
    assert callee["hangupAfter"]["oneOf"][0]["maximum"] == settings.MAX_HANGUP_AFTER
    assert callee["answer"] == {"$ref": "#/components/schemas/CalleeAnswer"}
    assert SCHEMAS["CalleeAnswer"]["enum"] == [
        "answered",
        "busy",
        "no-answer",
        "rejected",
        "unreachable",
        "failed",
    ]


def test_every_served_route_is_in_the_contract() -> None:
    app = create_app(SimulatorConfig())
    served = set()
    for node in app._router._roots:  # the compiled router's tree of URI templates
        stack = [node]
        while stack:
            current = stack.pop()
            if current.resource is not None:
                served.add(current.uri_template)
            stack.extend(current.children)
    contract = {
        path.replace("{sessionId}", "{session_id}").replace("{recordingId}", "{recording_id}")
        for path in CONTRACT["paths"]
    }
    assert served == contract
