"""``atsim serve`` as a real process, spoken to over HTTP by the official SDK and httpx."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import africastalking
import httpx
import pytest
from africastalking.Service import AfricasTalkingException

from at_voice_kit.simulator.testing.sdk import real_africastalking_blocked, sdk_pointed_at
from tests.simulator.atsim_process import atsim_command, atsim_serve

pytestmark = pytest.mark.e2e

AT_NUMBER = "+254711082000"


def test_the_sdk_talks_to_a_real_atsim_serve_process() -> None:
    violations: list[str] = []
    with (
        atsim_serve("--seed", "8", "--account", "shop:shop-key") as atsim,
        real_africastalking_blocked(violations),
        sdk_pointed_at(atsim.url, "shop", "shop-key"),
    ):
        answer = africastalking.Voice.call(AT_NUMBER, ["+254711082001", "+2541234"])
        assert [e["status"] for e in answer["entries"]] == ["Queued", "InvalidPhoneNumber"]
        assert africastalking.Voice.fetch_queued_calls(AT_NUMBER)["status"] == "Success"
        assert africastalking.Voice.media_upload(AT_NUMBER, "https://example.com/a.mp3").startswith(
            "The request has been fulfilled"
        )
        africastalking.initialize("shop", "wrong-key")
        with pytest.raises(AfricasTalkingException, match="The supplied authentication is invalid"):
            africastalking.Voice.call(AT_NUMBER, ["+254711082001"])

        session_id = answer["entries"][0]["sessionId"]
        with httpx.Client(base_url=atsim.url, timeout=10) as admin:
            (call,) = admin.get("/_simulator/calls").json()["calls"]
            assert (call["sessionId"], call["username"]) == (session_id, "shop")
            detail = admin.get(f"/_simulator/calls/{session_id}").json()
            assert detail["requests"][0]["form"]["to"] == "+254711082001,+2541234"
            paths = [r["path"] for r in admin.get("/_simulator/requests").json()["requests"]]
            assert paths == ["/call", "/queueStatus", "/mediaUpload", "/call"]
    assert violations == []


def test_admin_api_over_http_sets_callees_and_numbers() -> None:
    with (
        atsim_serve("--callback-url", "http://127.0.0.1:8000/voice") as atsim,
        httpx.Client(base_url=atsim.url, timeout=10) as client,
    ):
        assert client.get("/_simulator/health").json()["status"] == "ok"
        put = client.put("/_simulator/callees/+254711082001", json={"answer": "no-answer"})
        assert put.status_code == 201
        invalid = client.put("/_simulator/callees/+254711082001", json={"answer": "later"})
        assert invalid.status_code == 422
        assert invalid.headers["content-type"] == "application/problem+json"
        assert invalid.json()["errors"][0]["field"] == "answer"
        number = client.get(f"/_simulator/numbers/{AT_NUMBER}").json()
        assert number["callbackUrl"] == "http://127.0.0.1:8000/voice"
        assert client.post("/_simulator/reset").json() == {"status": "reset"}
        assert client.get("/_simulator/callees").json()["callees"] == []


def test_the_same_seed_gives_the_same_session_ids_across_processes() -> None:
    def first_session_id() -> str:
        with atsim_serve("--seed", "1234") as atsim:
            response = httpx.post(
                f"{atsim.url}/call",
                data={"username": "sandbox", "from": AT_NUMBER, "to": "+254711082001"},
                headers={"apiKey": "atsim-sandbox-key"},
                timeout=10,
            )
            assert response.headers["content-type"] == "application/json"
            session_id: str = response.json()["entries"][0]["sessionId"]
            return session_id

    assert first_session_id() == first_session_id()


def test_an_admin_token_protects_the_admin_api_of_a_real_process() -> None:
    token = "e2e-admin-token-123456"
    with (
        atsim_serve("--admin-token", token) as atsim,
        httpx.Client(base_url=atsim.url, timeout=10) as client,
    ):
        # The token the user set stays out of the banner (and so out of logs).
        assert token not in atsim.banner
        assert "Authorization: Bearer <the admin token you set>" in atsim.banner
        assert client.get("/_simulator/calls").status_code == 401
        assert client.get("/_simulator/health").status_code == 200
        authorised = client.get("/_simulator/calls", headers={"Authorization": f"Bearer {token}"})
        assert authorised.status_code == 200


def test_the_banner_masks_the_secrets_in_the_numbers_urls() -> None:
    with atsim_serve(
        "--callback-url", "http://127.0.0.1:9/voice?secret=banner-secret-value&lang=sw",
        "--events-url", "http://hook:banner-password@127.0.0.1:9/events",
    ) as atsim:  # fmt: skip
        assert "banner-secret-value" not in atsim.banner
        assert "banner-password" not in atsim.banner
        assert "callback http://127.0.0.1:9/voice?secret=***&lang=***" in atsim.banner
        assert "events http://hook:***@127.0.0.1:9/events" in atsim.banner


def test_sigterm_stops_the_server_cleanly() -> None:
    with atsim_serve() as atsim:
        atsim.process.send_signal(signal.SIGTERM)
        assert atsim.process.wait(timeout=10) == 0


def test_a_bad_config_file_stops_start_up_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("callees:\n  - {phoneNumber: '+254711082001', answer: sometimes}\n")
    result = subprocess.run(
        [*atsim_command(), "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "callees[0].answer: must be one of" in result.stderr


def test_a_busy_port_is_reported() -> None:
    with atsim_serve() as atsim:
        port = atsim.url.rsplit(":", 1)[1]
        result = subprocess.run(
            [*atsim_command(), "serve", "--port", port],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert result.returncode == 1
        assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
