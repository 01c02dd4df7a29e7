"""The kit installs next to anything: a project with its own ``service``, ``simulator`` and
``contracts`` packages runs its own tests and the kit's fixtures in one pytest run.

The kit is built as a wheel and installed (without dependencies, which this environment has)
into a directory put first on ``PYTHONPATH``, as a user's ``pip install at-voice-kit`` would
put it on their path. Before the namespace, the plugin's entry point (the top-level
``simulator`` package's ``pytest_plugin``) resolved to the project's own ``simulator`` package
and pytest stopped before any test ran.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PROJECT_FILES = {
    # The project's own packages, named like the kit's folders.
    "service/__init__.py": "NAME = 'the project service'\n",
    "simulator/__init__.py": "NAME = 'the project simulator'\n",
    "contracts/__init__.py": "NAME = 'the project contracts'\n",
    "tests/test_own_packages.py": """
        import at_voice_kit.contracts
        import at_voice_kit.service
        import at_voice_kit.simulator
        import contracts
        import service
        import simulator


        def test_the_project_imports_its_own_packages():
            assert service.NAME == "the project service"
            assert simulator.NAME == "the project simulator"
            assert contracts.NAME == "the project contracts"
    """,
    "tests/test_with_the_kit.py": """
        import africastalking


        def test_a_call_through_the_kit_fixture(at_simulator):
            answer = africastalking.Voice.call(at_simulator.phone_number, ["+254711082001"])
            entry = answer["entries"][0]
            assert entry["status"] == "Queued"
            call = at_simulator.wait_for_call(entry["sessionId"])
            assert call.record.ending is not None


        def test_the_verify_fixture_judges_an_app(atsim_verify):
            def app(environ, start_response):
                start_response("200 OK", [("Content-Type", "text/plain")])
                body = b"" if environ["PATH_INFO"].endswith("/events") else (
                    b'<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hi</Say></Response>'
                )
                return [body]

            report = atsim_verify(app, "/voice", quick=True)
            assert report.ok, report.summary()
    """,
}


@pytest.fixture(scope="module")
def installed_kit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the kit as a wheel installs it (no dependencies)."""
    work = tmp_path_factory.mktemp("kit")
    # Built from a copy: setuptools writes build/ and *.egg-info beside the sources it builds.
    source = work / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(".git", "build", "*.egg-info", "__pycache__", ".*_cache"),
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--wheel-dir",
            str(work / "wheel"),
            str(source),
        ],
        check=True,
        timeout=300,
    )
    (wheel,) = (work / "wheel").glob("at_voice_kit-*.whl")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(work / "site"),
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    return work / "site"


def test_the_wheel_holds_only_the_namespace(installed_kit: Path) -> None:
    top_level = {
        path.name for path in installed_kit.iterdir() if not path.name.endswith(".dist-info")
    }
    assert top_level - {"bin"} == {"at_voice_kit"}  # bin: the atsim console script


def test_a_project_with_packages_named_like_the_kits_runs_its_tests_and_the_kits_fixtures(
    installed_kit: Path, tmp_path: Path
) -> None:
    for name, text in PROJECT_FILES.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(installed_kit)}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 passed" in run.stdout, run.stdout
    # The kit the project used is the installed wheel, not this checkout.
    probe = subprocess.run(
        [sys.executable, "-c", "import at_voice_kit.simulator as s; print(s.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert probe.stdout.startswith(str(installed_kit)), probe.stdout
