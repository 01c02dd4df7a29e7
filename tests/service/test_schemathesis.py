"""schemathesis 4 against the service in-process, from ``contracts/service.yaml``, all checks.

Positive and negative data for every operation; the secured app (token set) so the
``ignored_auth`` check can prove the token is enforced. The fake AT queues every call.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation

from at_voice_kit.contracts.service_contract import SERVICE_SPEC_PATH
from at_voice_kit.service.app import create_app
from at_voice_kit.service.at_client import voice_client
from at_voice_kit.service.config import Config
from tests.service.conftest import API_TOKEN, AT_NUMBER
from tests.service.fake_at import run_fake_at

# Built at import: schemathesis binds the app when it generates the tests. The fake AT it
# calls starts with the module's tests (never at import: collection alone must start nothing).
_DATABASE = Path(tempfile.mkdtemp(prefix="avk-schemathesis-")) / "voice.db"
_AT_CLIENT = voice_client("testuser", "test-key", base_url="http://127.0.0.1:9")
SERVICE_APP = create_app(
    Config(
        at_username="testuser",
        at_api_key="test-key",
        at_voice_number=AT_NUMBER,
        at_voice_url="http://127.0.0.1:9",
        database_url=f"sqlite:///{_DATABASE}",
        api_token=API_TOKEN,
        at_timeout_seconds=5.0,
    ),
    client=_AT_CLIENT,
)


@pytest.fixture(scope="module", autouse=True)
def _fake_at() -> Iterator[None]:
    for fake in run_fake_at():
        _AT_CLIENT._baseUrl = fake.url
        yield
    shutil.rmtree(_DATABASE.parent, ignore_errors=True)


# Two values a schema cannot judge get a 400 although they match it: a phone number of the
# right shape that no country issues (libphonenumber's tables decide), and a pagination
# cursor the service did not issue (it is opaque). For those operations a 400 to schema-valid
# data is expected; test_invoke_call.py and test_calls.py pin each 400 to its field and rule.
OPAQUE_VALUE_OPERATIONS = ("invokeCall", "invokeCallPost", "listCalls")
CONFIG = schemathesis.Config.from_dict(
    {
        "operations": [
            {
                "include-operation-id": operation_id,
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2xx", "400", "401", "403", "404"]
                    }
                },
            }
            for operation_id in OPAQUE_VALUE_OPERATIONS
        ]
    }
)
schema = schemathesis.openapi.from_path(SERVICE_SPEC_PATH, config=CONFIG)
schema.app = SERVICE_APP
schema.config.generation.update(modes=list(GenerationMode), max_examples=60)


AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_service_keeps_its_contract(case: schemathesis.Case) -> None:
    _escape_percent_in_valid_path_parameters(case)
    case.call_and_validate(headers=AUTH)


def _escape_percent_in_valid_path_parameters(case: schemathesis.Case) -> None:
    """Send a schema-valid path parameter as the value the schema describes.

    schemathesis places path parameters in the URL without escaping ``%``, so a valid
    ``sessionId`` of ``O%0D>m`` arrives as ``O``, a carriage return, ``>m``, which the service
    rightly refuses (400). A positive value is printable ASCII, so each ``%`` in it is a
    character of the value and is sent as ``%25``; negative values are left as generated
    (schemathesis percent-encodes the non-ASCII characters it puts in them itself).
    """
    component = case.meta.components.get(ParameterLocation.PATH) if case.meta else None
    if not case.path_parameters or (component and component.mode is GenerationMode.NEGATIVE):
        return
    case.path_parameters = {
        name: value.replace("%", "%25") if isinstance(value, str) else value
        for name, value in case.path_parameters.items()
    }
