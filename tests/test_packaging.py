"""``pip install '.[simulator]' && atsim demo`` works from a non-editable install only if every data
file the code reads at run time is shipped: each one must match pyproject's package-data."""

from __future__ import annotations

import fnmatch
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("service", "simulator", "contracts")
NOT_SHIPPED = {".md"}  # documentation beside the code, read by people, not by the code


def test_every_data_file_of_the_packages_is_shipped() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["*"]
    unshipped = [
        path.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for path in (ROOT / package).rglob("*")
        if path.is_file()
        and path.suffix not in {".py", ".pyc", *NOT_SHIPPED}
        and "__pycache__" not in path.parts
        and not any(fnmatch.fnmatch(path.name, pattern) for pattern in patterns)
    ]
    assert unshipped == []


def test_the_flows_and_contracts_the_demo_needs_are_data_files_of_their_packages() -> None:
    assert (ROOT / "service" / "flows" / "menu.yaml").is_file()
    assert (ROOT / "contracts" / "at_voice.yaml").is_file()
    assert (ROOT / "contracts" / "service.yaml").is_file()


def test_every_package_folder_installs_under_the_at_voice_kit_namespace() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = pyproject["tool"]["setuptools"]
    folders = sorted(
        "at_voice_kit." + ".".join(init.parent.relative_to(ROOT).parts)
        for package in PACKAGES
        for init in (ROOT / package).rglob("__init__.py")
    )
    assert sorted(setuptools["packages"]) == folders
    assert setuptools["package-dir"] == {f"at_voice_kit.{name}": name for name in PACKAGES}


SIMULATOR_ONLY = ("httpx", "faker", "schemathesis", "hypothesis", "pytest", "sniffio")
"""What only the simulator and the tests use (uvicorn is the service's server model too)."""

PRODUCTION_PROBE = """
import importlib, importlib.abc, pkgutil, sys

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked)", name=name)
        return None

sys.meta_path.insert(0, Refuse())
import at_voice_kit.service, at_voice_kit.contracts
for package in (at_voice_kit.service, at_voice_kit.contracts):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)
from at_voice_kit.service.app import create_app
from at_voice_kit.service.config import Config
create_app(Config(at_username="sandbox", at_api_key="k", at_voice_number="+254711082000",
                  database_url=DATABASE_URL))
print("service ok")
"""


def test_the_production_install_brings_no_test_tooling() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    base = {requirement.split(">")[0].split("[")[0].lower() for requirement in
            pyproject["project"]["dependencies"]}  # fmt: skip
    assert not base & {*SIMULATOR_ONLY, "pytest-timeout", "xmlschema", "lxml"}


def test_the_service_imports_and_starts_without_the_simulator_extra(tmp_path: Path) -> None:
    code = PRODUCTION_PROBE.replace("BLOCKED", repr(set(SIMULATOR_ONLY))).replace(
        "DATABASE_URL", repr(f"sqlite:///{tmp_path / 'voice.db'}")
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "service ok"


def test_atsim_without_the_simulator_extra_says_what_to_install(tmp_path: Path) -> None:
    code = (
        PRODUCTION_PROBE.split("import at_voice_kit.service")[0].replace("BLOCKED", repr({"httpx"}))
        + "from at_voice_kit.simulator.cli import main\nsys.exit(main(['--help']))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert "pip install 'at-voice-kit[simulator]'" in run.stderr
    assert "Traceback" not in run.stderr
    version = subprocess.run(
        [sys.executable, "-c", code.replace("['--help']", "['--version']")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("atsim (at-voice-kit) ")
