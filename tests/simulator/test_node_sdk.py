"""The official Node.js SDK (npm ``africastalking``) against a real ``atsim serve``.

The SDK is installed at test time with the machine's npm into a temporary folder (CI installs
Node.js and npm: ``.ci/run``), and only its voice URL is changed, the way its own source
allows (``lib/common.js`` exports ``VOICE_URL``, which ``lib/voice.js`` reads on every
call): everything else, validation, headers and body encoding, is the SDK's own. The
simulator page's table of its voice methods (``docs/simulator.md``) says what each gets and
why; this test holds the simulator to it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from at_voice_kit.contracts.actionxml import parse
from at_voice_kit.simulator.client.remote import SimulatorClient
from at_voice_kit.simulator.verify.at_traffic import beyond_at
from at_voice_kit.simulator.verify.exchanges import Role
from tests.simulator.atsim_process import atsim_serve
from tests.simulator.verify.servers import serve_wsgi
from tests.simulator.verify.webhook_apps import IvrApp

pytestmark = pytest.mark.e2e

SDK = "africastalking@0.8.3"
"""The SDK version whose behaviour the simulator page's table describes."""
DRIVER = Path(__file__).with_name("node_sdk") / "voice_methods.js"
AT_NUMBER = "+254711082000"
PHONES = ["+254711082369", "+254711082370"]


@pytest.fixture(scope="module")
def node_modules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SDK installed with npm into a folder of its own."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("these tests need Node.js and npm (Debian: apt-get install nodejs npm)")
    folder = tmp_path_factory.mktemp("node-sdk")
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(folder), SDK],
        check=True, timeout=300, capture_output=True,
    )  # fmt: skip
    return folder / "node_modules"


@pytest.fixture(scope="module")
def sdk_run(node_modules: Path) -> Iterator[dict[str, Any]]:
    """Every voice method of the SDK called once against a simulator whose number points
    at a voice app; the calls the SDK placed are waited for."""
    app = IvrApp()
    with (
        serve_wsgi(app) as app_url,
        atsim_serve("--speed", "fast", "--seed", "11") as atsim,
        SimulatorClient(atsim.url) as sim,
    ):
        sim.admin("PUT", f"numbers/{AT_NUMBER}", {"username": "sandbox",
                  "callbackUrl": f"{app_url}/voice/instruct",
                  "eventsUrl": f"{app_url}/voice/events"})  # fmt: skip
        for phone in PHONES:
            sim.set_callee(phone, {"answer": "answered", "hangupAfter": 20})
        settings = {
            "username": "sandbox", "apiKey": "atsim-sandbox-key", "voiceUrl": atsim.url,
            "from": AT_NUMBER, "to": PHONES, "agent": "+254711082001",
            # The ActionBuilder takes https:// URLs only (its own validation).
            "menuUrl": "https://voice.example.com/menu",
        }  # fmt: skip
        done = subprocess.run(
            ["node", str(DRIVER), json.dumps(settings)], capture_output=True, text=True,
            timeout=120, check=False, env={**os.environ, "NODE_PATH": str(node_modules)},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        result: dict[str, Any] = json.loads(done.stdout)
        sessions = [
            entry["sessionId"]
            for method in ("call", "callWithClientRequestId")
            for entry in result[method]["resolved"]["entries"]
        ]
        result["calls"] = [sim.wait_for_end(session, 60) for session in sessions]
        result["requests"] = sim.admin("GET", "requests")["requests"]
        yield result


def test_call_places_real_calls_that_drive_the_app(sdk_run: dict[str, Any]) -> None:
    answer = sdk_run["call"]["resolved"]
    assert answer["errorMessage"] == "None"
    assert [(e["phoneNumber"], e["status"]) for e in answer["entries"]] == [
        (phone, "Queued") for phone in PHONES
    ]
    for call in sdk_run["calls"]:
        assert call["outcome"]["status"] == "Success", call["outcome"]
        callbacks = [w for w in call["webhooks"] if w["kind"] == "callback"]
        assert callbacks[0]["status"] == 200 and "<GetDigits" in callbacks[0]["body"]
        for webhook in call["webhooks"]:  # every request is one AT sends
            role = {"callback": Role.LIVE, "event": Role.EVENT}[webhook["kind"]]
            if webhook["form"].get("isActive") == "0" and webhook["kind"] == "callback":
                role = Role.FINAL
            assert beyond_at(role, tuple(webhook["form"].items())) is None, webhook["form"]


def test_call_sends_its_form_with_the_sdks_own_headers(sdk_run: dict[str, Any]) -> None:
    first, second = (r for r in sdk_run["requests"] if r["path"] == "/call")
    assert first["headers"]["content-type"].startswith("application/x-www-form-urlencoded")
    assert first["headers"]["user-agent"].startswith("axios/")
    assert first["headers"]["apikey"] == "<redacted>"
    assert first["form"]["to"] == ",".join(PHONES)
    # Without a clientRequestId the SDK still sends the field: URLSearchParams writes
    # JavaScript's undefined as the text "undefined". AT's events then carry it too.
    assert first["form"]["clientRequestId"] == "undefined"
    assert second["form"]["clientRequestId"] == "order-42"
    tags = {
        event["form"].get("clientRequestId")
        for call in sdk_run["calls"]
        for event in call["webhooks"]
        if event["kind"] == "event"
    }
    assert tags == {"undefined", "order-42"}


@pytest.mark.parametrize(("method", "path"), [("getNumQueuedCalls", "/queueStatus"),
                                              ("uploadMediaFile", "/mediaUpload")])  # fmt: skip
def test_the_json_methods_send_a_body_their_content_type_belies(
    sdk_run: dict[str, Any], method: str, path: str
) -> None:
    # The SDK posts JSON.stringify(...) with no Content-Type of its own, and axios labels a
    # string body application/x-www-form-urlencoded: read as the form it claims to be, it
    # has no username (the simulator page's table: AT's answer to it is unknown).
    assert sdk_run[method]["rejected"] == {
        "status": 400,
        "data": "Request is missing required form field 'username'",
    }
    [request] = [r for r in sdk_run["requests"] if r["path"] == path]
    assert request["headers"]["content-type"].startswith("application/x-www-form-urlencoded")


def test_the_action_builders_document_works_on_at(sdk_run: dict[str, Any]) -> None:
    result = parse(sdk_run["actionXml"])
    assert result.works_on_at, result.problems
    assert [type(action).__name__ for action in result.executable.actions] == [
        "Say", "GetDigits", "Dial", "Record", "Redirect",
    ]  # fmt: skip
