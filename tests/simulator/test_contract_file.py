"""``contracts/at_voice.yaml`` says what the server enforces: the patterns in the contract are
the simulator's own, and every route the simulator serves is in the contract."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from at_voice_kit.contracts import CONTRACTS_DIR
from at_voice_kit.contracts.json_schema import schema_pattern
from at_voice_kit.contracts.urls import http_url_problem, media_url_problem
from at_voice_kit.simulator.backend.platform_config import SimulatorConfig
from at_voice_kit.simulator.configuration import fields
from at_voice_kit.simulator.engine.callee import (
    MAX_DIGIT_ENTRIES,
    MAX_KEYS_PER_ENTRY,
    MAX_SECONDS,
    CalleeAnswer,
)
from at_voice_kit.simulator.serving.app import create_app

CONTRACT: dict[str, Any] = yaml.safe_load((CONTRACTS_DIR / "at_voice.yaml").read_text("utf-8"))
SCHEMAS: dict[str, Any] = CONTRACT["components"]["schemas"]


def test_the_contract_is_openapi_3_1_and_lists_only_the_simulator_as_server() -> None:
    assert CONTRACT["openapi"] == "3.1.0"
    assert [server["url"] for server in CONTRACT["servers"]] == ["http://127.0.0.1:5001"]


def test_the_bounds_the_contract_declares_are_the_call_engines() -> None:
    callee = SCHEMAS["CalleeSettings"]["properties"]
    assert fields.MAX_DIGIT_INPUTS == MAX_DIGIT_ENTRIES
    assert fields.MAX_HANGUP_AFTER == MAX_SECONDS
    assert callee["digits"]["items"]["pattern"] == f"^[0-9*#]{{0,{MAX_KEYS_PER_ENTRY}}}$"
    assert callee["answer"] == {"$ref": "#/components/schemas/CalleeAnswer"}
    assert SCHEMAS["CalleeAnswer"]["enum"] == [answer.value for answer in CalleeAnswer]


@settings(max_examples=300, deadline=None)
@given(st.from_regex(schema_pattern(SCHEMAS["Url"]["pattern"])))
def test_every_url_the_contract_allows_is_one_a_client_can_use(url: str) -> None:
    assert http_url_problem(url) is None


@settings(max_examples=300, deadline=None)
@given(st.from_regex(schema_pattern(SCHEMAS["MediaUploadForm"]["properties"]["url"]["pattern"])))
def test_every_media_url_the_contract_allows_is_one_a_client_can_use(url: str) -> None:
    assert media_url_problem(url) is None


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
        path.replace("{sessionId}", "{session_id}")
        .replace("{recordingId}", "{recording_id}")
        .replace("{speechId}", "{speech_id}")
        for path in CONTRACT["paths"]
    }
    assert served == contract
