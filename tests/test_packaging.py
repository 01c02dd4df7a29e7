"""``pip install . && atsim demo`` works from a non-editable install only if every data file
the code reads at run time is shipped: each one must match pyproject's package-data."""

from __future__ import annotations

import fnmatch
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
