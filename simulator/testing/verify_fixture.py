"""The ``atsim_verify`` pytest fixture: ``atsim verify``'s checks inside a project's own tests.

Loaded by the ``atsim`` pytest plugin, so any project with at-voice-kit installed can write::

    def test_webhooks_keep_the_contract(atsim_verify):
        report = atsim_verify(create_app(), "/voice")        # WSGI/ASGI app, in-process
        assert report.ok, report.summary()

    def test_deployed_webhooks(atsim_verify):
        report = atsim_verify("http://127.0.0.1:8000/voice", quick=True)   # over HTTP
        assert report.ok, report.summary()

Runs are seeded (``--atsim-seed``, else 1) so a failure repeats exactly. Only pytest is
imported here: this module loads in every pytest run of such a project, also where only the
service is installed (the fixtures then say which extra they need).
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from at_voice_kit.simulator.verify.report import VerifyReport

DEFAULT_SEED = 1
SIMULATOR_EXTRA_MODULES = ("httpx", "uvicorn", "faker", "schemathesis", "hypothesis")


def require_simulator_extra(fixture: str) -> None:
    """Fail the test with the install command when the ``simulator`` extra is missing (a
    production install of the service has the plugin but not what the fixtures run)."""
    missing = [name for name in SIMULATOR_EXTRA_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        pytest.fail(
            f"the {fixture} fixture needs the simulator extra ({', '.join(missing)} missing): "
            "pip install 'at-voice-kit[simulator]'",
            pytrace=False,
        )


def run_verify(
    target: Any = None,
    base_path: str = "",
    *,
    callback_url: str | None = None,
    events_url: str | None = None,
    events: bool = True,
    seed: int = DEFAULT_SEED,
    **options: Any,
) -> VerifyReport:
    """Verify an app object (in-process) or a base URL; keyword options are
    :class:`~at_voice_kit.simulator.verify.VerifyOptions` fields (``quick=True``, ``timeout=5``,
    ...).

    - ``atsim_verify(app, "/voice")``: ``/voice/instruct`` and ``/voice/events`` of ``app``;
    - ``atsim_verify("http://host:port/voice")``: a running service laid out like ours;
    - ``callback_url=`` / ``events_url=``: any other layout (paths, for an app object);
      ``events=False`` leaves the events URL out.
    """
    from at_voice_kit.contracts.urls import with_path
    from at_voice_kit.simulator.verify import Target, VerifyOptions, verify

    if target is None or isinstance(target, str):
        if callback_url is not None:
            built = Target(callback_url, events_url if events else None)
        elif target is not None:
            built = Target.from_base_url(with_path(target, base_path), events=events)
            if events_url is not None:
                built = Target(built.callback_url, events_url)
        else:
            raise TypeError("atsim_verify needs an app, a base URL, or callback_url=")
    else:
        built = Target.in_process(
            target, base_path, callback_url=callback_url, events_url=events_url, events=events
        )
    return verify(built, VerifyOptions(seed=seed, **options))


@pytest.fixture
def atsim_verify(pytestconfig: pytest.Config) -> Callable[..., VerifyReport]:
    """Run ``atsim verify`` against an app object or a URL and get a
    :class:`~at_voice_kit.simulator.verify.VerifyReport` (see :func:`run_verify` for the arguments):
    ``assert report.ok, report.summary()``."""
    require_simulator_extra("atsim_verify")
    configured = pytestconfig.getoption("atsim_seed", default=None)
    return functools.partial(
        run_verify, seed=configured if isinstance(configured, int) else DEFAULT_SEED
    )
