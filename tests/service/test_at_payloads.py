"""The service accepts every real AT request kept in ``tests/simulator/at_payloads/``.

A service that answers 400 to what AT really sends fails calls on AT while passing every
test written from the docs: AT's amounts have had 3 decimals and 18 (``0.408333333333333345``,
2020), and AT's WebRTC client calls with ``callerCountryCode=-1``.
"""

from __future__ import annotations

from urllib.parse import urlencode

import falcon.testing
import pytest

from at_voice_kit.contracts.actionxml import parse
from tests.simulator.at_payloads import AtPayload, at_payloads

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
RECORDED = [
    payload
    for payload in at_payloads()
    if not payload.source["kind"].startswith("third-party library test fixture")
]


@pytest.mark.parametrize("payload", RECORDED, ids=lambda p: p.name)
def test_every_recorded_request_is_accepted_and_stored(
    client: falcon.testing.TestClient, payload: AtPayload
) -> None:
    result = client.simulate_post("/voice/instruct", body=urlencode(payload.fields), headers=FORM)
    assert result.status_code == 200, result.text
    if payload.fields["isActive"] == "1":
        assert parse(result.text).ok
    else:
        assert result.text == ""
    history = client.simulate_get(f"/voice/calls/{payload.fields['sessionId']}").json
    assert history["events"][0]["fields"] == payload.fields
    if payload.fields["isActive"] == "0":
        assert history["outcome"]["amount"] == payload.fields["amount"]
