"""schemathesis 4 against the service in-process, from ``contracts/service.yaml``, all checks.

Positive and negative data for every operation; the secured app (token set) so the
``ignored_auth`` check can prove the token is enforced. The fake AT queues every call.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from contracts.phone import InvalidPhoneNumber, normalise_international
from contracts.service_contract import SERVICE_SPEC_PATH
from service.app import create_app
from service.config import Config
from tests.service.conftest import API_TOKEN, AT_NUMBER
from tests.service.fake_at import run_fake_at


@pytest.fixture(scope="module")
def service_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    """The contract bound to a secured app (token set) on a fresh SQLite file."""
    fake_at = run_fake_at()
    at_url = next(fake_at).url
    database = tmp_path_factory.mktemp("schemathesis") / "voice.db"
    app = create_app(
        Config(
            at_username="testuser",
            at_api_key="test-key",
            at_voice_number=AT_NUMBER,
            at_voice_url=at_url,
            database_url=f"sqlite:///{database}",
            api_token=API_TOKEN,
            at_timeout_seconds=5.0,
        )
    )
    schema = schemathesis.openapi.from_path(SERVICE_SPEC_PATH)
    schema.app = app
    schema.config.generation.update(modes=list(GenerationMode), max_examples=60)
    yield schema
    fake_at.close()


lazy_schema = schemathesis.pytest.from_fixture("service_schema")
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


def _phone_is_invalid_by_number_plan(case: schemathesis.Case) -> bool:
    raw = (case.query or {}).get("phone") or (case.body or {}).get("phone")  # type: ignore[union-attr]
    if not isinstance(raw, str):
        return False
    try:
        normalise_international(raw)
    except InvalidPhoneNumber:
        return True
    return False


@lazy_schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_service_keeps_its_contract(case: schemathesis.Case) -> None:
    if case.operation.path == "/voice/invoke-call" and _phone_is_invalid_by_number_plan(case):
        # A number of the right shape that no country issues: the schema cannot say which
        # numbers a country issues, so its 400 is checked here instead of by
        # positive_data_acceptance.
        response = case.call(headers=AUTH)
        case.validate_response(response, excluded_checks=[positive_data_acceptance])
        if response.status_code == 200:
            pytest.fail("an invalid number was accepted")
        assert response.status_code in (400, 401), response.text
        if response.status_code == 400:
            assert response.json()["errors"][0]["field"] == "phone"
        return
    case.call_and_validate(headers=AUTH)
