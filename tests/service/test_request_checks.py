"""The checks every request passes before a resource runs: webhook secret, API token, body
framing, and (when asked for) strict webhook fields. Whatever they refuse changes nothing."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

import falcon.testing
import pytest

from at_voice_kit.service.app import create_app
from at_voice_kit.service.config import Config
from tests.service.conftest import API_TOKEN

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SECRET = "webhook-secret-0123456789"
EVENT = {"sessionId": "ATVId_checks", "eventType": "SessionEnded"}
CALLBACK = {
    "sessionId": "ATVId_checks",
    "callerNumber": "+254711082369",
    "destinationNumber": "+254711082000",
}
WEBHOOKS = [("/voice/events", EVENT, "OK"), ("/voice/instruct", CALLBACK, "<?xml")]


def stored(client: falcon.testing.TestClient) -> int:
    result = client.simulate_get("/voice/calls/ATVId_checks")
    return 0 if result.status_code == 404 else int(result.json["eventCount"])


@pytest.fixture
def with_secret(config: Config) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(replace(config, webhook_secret=SECRET)))


@pytest.mark.parametrize(("path", "form", "answer"), WEBHOOKS)
@pytest.mark.parametrize("query", ["", "secret=", "secret=wrong", f"secret={SECRET}x"])
def test_webhooks_without_the_right_secret_are_a_403_and_store_nothing(
    with_secret: falcon.testing.TestClient, path: str, form: dict[str, str], answer: str, query: str
) -> None:
    result = with_secret.simulate_post(path, body=urlencode(form), headers=FORM, query_string=query)
    assert result.status_code == 403
    assert result.headers["content-type"] == "application/problem+json"
    assert "secret" in result.json["detail"]
    assert stored(with_secret) == 0


@pytest.mark.parametrize(("path", "form", "answer"), WEBHOOKS)
def test_webhooks_with_the_secret_are_answered_and_stored(
    with_secret: falcon.testing.TestClient, path: str, form: dict[str, str], answer: str
) -> None:
    result = with_secret.simulate_post(
        path, body=urlencode(form), headers=FORM, query_string=urlencode({"secret": SECRET})
    )
    assert result.status_code == 200
    assert result.text.startswith(answer)
    assert stored(with_secret) == 1


def test_an_overlong_secret_is_a_400(client: falcon.testing.TestClient) -> None:
    result = client.simulate_post(
        "/voice/events", body=urlencode(EVENT), headers=FORM, query_string="secret=" + "x" * 257
    )
    assert result.status_code == 400
    assert result.json["errors"][0]["field"] == "secret"


def test_status_and_webhooks_need_no_token(secured_client: falcon.testing.TestClient) -> None:
    assert secured_client.simulate_get("/voice/").status_code == 200
    for path, form, answer in WEBHOOKS:
        result = secured_client.simulate_post(path, body=urlencode(form), headers=FORM)
        assert result.text.startswith(answer)


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", f"Basic {API_TOKEN}", f"Bearer {API_TOKEN}x", API_TOKEN],
)
def test_history_refuses_anything_but_the_bearer_token(
    secured_client: falcon.testing.TestClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    result = secured_client.simulate_get("/voice/calls", headers=headers)
    assert result.status_code == 401
    assert result.headers["www-authenticate"].startswith("Bearer")


def test_the_bearer_scheme_is_case_insensitive(secured_client: falcon.testing.TestClient) -> None:
    result = secured_client.simulate_get(
        "/voice/calls", headers={"Authorization": f"bearer {API_TOKEN}"}
    )
    assert result.status_code == 200


def test_a_body_of_unknown_length_is_a_411(client: falcon.testing.TestClient) -> None:
    result = client.simulate_post("/voice/events", headers={**FORM, "Transfer-Encoding": "chunked"})
    assert result.status_code == 411
    assert stored(client) == 0


def test_strict_fields_refuse_undocumented_fields(config: Config) -> None:
    client = falcon.testing.TestClient(create_app(replace(config, strict_fields=True)))
    for path, form, _ in WEBHOOKS:
        result = client.simulate_post(
            path, body=urlencode({**form, "brandNewField": "x"}), headers=FORM
        )
        assert result.status_code == 400
        assert result.json["errors"][0]["field"] == "brandNewField"
        assert "VOICE_STRICT_FIELDS" in result.json["errors"][0]["rule"]
    assert stored(client) == 0
    documented = {**EVENT, "hangupCause": "NORMAL_CLEARING", "clientRequestId": "r-1"}
    assert (
        client.simulate_post("/voice/events", body=urlencode(documented), headers=FORM).text == "OK"
    )
