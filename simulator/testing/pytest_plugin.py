"""pytest plugin (entry point ``pytest11``): the AT Voice simulator as a fixture.

``at_simulator`` starts the simulator once per session on a loopback socket in a background
thread (sharing state with the in-process backend, like moto's server mode), and for each test:
resets it, initialises ``africastalking`` with the simulator's account and aims
``africastalking.Voice`` at it, blocks any request to the real Africa's Talking (the test
fails, even if the code under test swallowed the error), and hands the test an
:class:`~at_voice_kit.simulator.testing.harness.AtSimulator` for set-up and journal assertions.

Calls really happen: queued calls ring and drive the AT number's callback and events URLs
(set them with ``at_simulator.set_number``), on a virtual clock by default so a call takes
milliseconds; ``at_simulator.wait_for_call`` waits for one to end.

Options: ``--atsim-seed N`` (deterministic session ids and calls), ``--atsim-config FILE``
(the ``atsim serve --config`` YAML), ``--atsim-speed fast|real|N`` (default ``fast``) and
``--atsim-strict`` (any ActionXML problem, warnings included, ends a call as an app failure),
or the ini keys ``atsim_seed`` / ``atsim_config`` / ``atsim_speed`` / ``atsim_strict``.

Heavy imports happen inside the fixtures: this module is loaded by every pytest run in an
environment where at-voice-kit is installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# The contract runner's checks as a fixture (its own module: it is another feature).
from at_voice_kit.simulator.testing.verify_fixture import (
    atsim_verify,  # noqa: F401
    require_simulator_extra,
)

if TYPE_CHECKING:
    from at_voice_kit.simulator.backend.platform_config import SimulatorConfig
    from at_voice_kit.simulator.serving.server import ThreadedSimulator
    from at_voice_kit.simulator.testing.harness import AtSimulator


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``--atsim-*`` options (and their ini keys)."""
    group = parser.getgroup("atsim", "Africa's Talking Voice simulator")
    group.addoption("--atsim-seed", type=int, default=None, help="seed for session ids")
    group.addoption("--atsim-config", default=None, help="simulator YAML configuration file")
    group.addoption("--atsim-speed", default=None, help="'fast' (default), 'real' or N")
    group.addoption(
        "--atsim-strict",
        action="store_true",
        default=False,
        help="end a call as an app failure on any ActionXML problem, warnings included",
    )
    parser.addini("atsim_seed", "seed for the simulator's session ids", default="")
    parser.addini("atsim_config", "simulator YAML configuration file", default="")
    parser.addini("atsim_speed", "the simulator's clock: fast (default), real or N", default="")
    parser.addini(
        "atsim_strict", "any ActionXML problem ends a call as an app failure", type="bool",
        default=False,
    )  # fmt: skip


def _simulator_config(pytestconfig: pytest.Config) -> SimulatorConfig:
    from at_voice_kit.simulator.backend.platform_config import ConfigError, SimulatorConfig, Speed
    from at_voice_kit.simulator.configuration.sources import load_config_file

    config_file = pytestconfig.getoption("atsim_config") or pytestconfig.getini("atsim_config")
    seed = pytestconfig.getoption("atsim_seed")
    if seed is None and pytestconfig.getini("atsim_seed"):
        seed = int(str(pytestconfig.getini("atsim_seed")))
    speed_text = pytestconfig.getoption("atsim_speed") or pytestconfig.getini("atsim_speed")
    try:
        config = load_config_file(Path(str(config_file))) if config_file else SimulatorConfig()
        config = config.resolved()
        speed = Speed.parse(str(speed_text or "fast"))
    except (ConfigError, ValueError) as exc:
        raise pytest.UsageError(f"atsim: {exc}") from None
    # The fixture always serves on an ephemeral loopback port, whatever the file says.
    seed = seed if seed is not None else config.seed
    strict = config.strict or bool(
        pytestconfig.getoption("atsim_strict") or pytestconfig.getini("atsim_strict")
    )
    return replace(config, host="127.0.0.1", port=0, seed=seed, speed=speed, strict=strict)


@pytest.fixture(scope="session")
def at_simulator_server(pytestconfig: pytest.Config) -> Iterator[ThreadedSimulator]:
    """The simulator serving HTTP on 127.0.0.1 (a free port) for the whole session."""
    require_simulator_extra("at_simulator")
    from at_voice_kit.simulator.backend.voice import VoiceBackend
    from at_voice_kit.simulator.network import SimulatedNetwork
    from at_voice_kit.simulator.serving.server import ThreadedSimulator

    backend = VoiceBackend(_simulator_config(pytestconfig))
    SimulatedNetwork.attach(backend)
    with ThreadedSimulator(backend) as server:
        yield server


@pytest.fixture
def at_simulator(at_simulator_server: ThreadedSimulator) -> Iterator[AtSimulator]:
    """A freshly reset simulator with the ``africastalking`` SDK pointed at it."""
    from at_voice_kit.simulator.testing.harness import AtSimulator
    from at_voice_kit.simulator.testing.sdk import real_africastalking_blocked, sdk_pointed_at

    backend = at_simulator_server.backend
    backend.reset()
    account = backend.config.accounts[0]
    numbers = [n.phone_number for n in backend.config.numbers if n.username == account.username]
    violations: list[str] = []
    with (
        real_africastalking_blocked(violations),
        sdk_pointed_at(at_simulator_server.url, account.username, account.api_key),
    ):
        yield AtSimulator(
            url=at_simulator_server.url,
            backend=backend,
            username=account.username,
            api_key=account.api_key,
            phone_number=numbers[0] if numbers else None,
        )
    if violations:
        pytest.fail("; ".join(violations), pytrace=False)
