"""schemathesis 4 runs ``contracts/at_voice.yaml`` against the simulator, with every check
and both positive and negative data, and must find nothing: in-process over ASGI, and over
HTTP against a real ``atsim serve`` process.

The contract is loaded from the simulator itself (``/_simulator/openapi.yaml``), so the
served copy is the one verified. ``at_voice_kit.simulator.testing.schemathesis_hooks`` teaches
schemathesis to generate the contract's ``at-phone-number`` format.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from falcon.testing import TestClient

import at_voice_kit.simulator.testing.schemathesis_hooks  # noqa: F401  (registers the at-phone-number format)
from at_voice_kit.contracts import CONTRACTS_DIR
from at_voice_kit.simulator.backend.platform_config import (
    DEFAULT_API_KEY,
    DEFAULT_USERNAME,
    SimulatorConfig,
)
from at_voice_kit.simulator.backend.voice import VoiceBackend
from at_voice_kit.simulator.serving.app import create_app
from tests.simulator.atsim_process import atsim_serve

CONTRACT_PATH = "/_simulator/openapi.yaml"
CONTRACT_FILE = CONTRACTS_DIR / "at_voice.yaml"
HTTP_MAX_EXAMPLES = 25

STREAMS = ["followFeed", "holdPhone"]
"""The event streams stay open until the client leaves, which a generated request never does:
their refusals are checked in tests/simulator/dashboard/, their streams over HTTP there too."""

in_process = schemathesis.openapi.from_asgi(
    CONTRACT_PATH, create_app(backend=VoiceBackend(SimulatorConfig(seed=1)))
).exclude(operation_id=STREAMS)
in_process.config.generation.update(database="none")


def as_the_default_account(case: schemathesis.Case) -> schemathesis.Case:
    """Positive REST cases speak as the default account, so the logic past authentication
    (queueing, refusals, balance) is exercised, not only the 401. Negative cases are sent
    as generated."""
    meta = case.meta
    body = case.body
    positive = meta is not None and meta.generation.mode.is_positive
    if positive and isinstance(body, dict) and isinstance(body.get("username"), str):
        body["username"] = DEFAULT_USERNAME
    return case


@in_process.parametrize()
def test_the_app_keeps_its_contract(case: schemathesis.Case) -> None:
    as_the_default_account(case).call_and_validate(headers={"apiKey": DEFAULT_API_KEY})


over_http = schemathesis.openapi.from_path(CONTRACT_FILE).exclude(operation_id=STREAMS)
over_http.config.generation.update(max_examples=HTTP_MAX_EXAMPLES, database="none")


@pytest.fixture(scope="module")
def atsim_url() -> Iterator[str]:
    """One real ``atsim serve`` process for the whole HTTP run."""
    with atsim_serve("--seed", "2") as atsim:
        yield atsim.url


# The contract file is the one the server serves (test_the_served_contract_is_the_file).
# schemathesis.pytest.from_fixture would load it from the server, but fails under pytest 9.2
# (it sets Node._nodeid, which pytest 9.2 no longer has), hence a file schema and base_url.
@pytest.mark.e2e
@over_http.parametrize()
def test_atsim_serve_keeps_its_contract_over_http(case: schemathesis.Case, atsim_url: str) -> None:
    as_the_default_account(case).call_and_validate(
        base_url=atsim_url, headers={"apiKey": DEFAULT_API_KEY}
    )


def test_the_served_contract_is_the_file() -> None:
    served = TestClient(create_app(SimulatorConfig())).simulate_get(CONTRACT_PATH)
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "application/yaml"
    assert served.text == CONTRACT_FILE.read_text(encoding="utf-8")
