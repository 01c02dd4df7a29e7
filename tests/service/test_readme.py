"""The README's configuration tables name every setting the service, its gunicorn
configuration and its worker read, and nothing they do not: an operator configures from the
README."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from at_voice_kit.service.config import Config

REPO_ROOT = Path(__file__).resolve().parents[2]


class RecordingEnvironment(dict[str, str]):
    """An environment that remembers every variable asked for."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.asked: set[str] = set()

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return super().__getitem__(key)


def readme_table_variables(section: str) -> Iterator[str]:
    """The variables in the first column of the tables of the README section ``section``."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    body = text.split(f"### {section}\n", 1)[1].split("\n### ", 1)[0]
    for line in body.splitlines():
        match = re.match(r"\| `([A-Z][A-Z0-9_]+)` \|", line)
        if match:
            yield match.group(1)


def test_the_configuration_tables_list_every_setting_read() -> None:
    env = RecordingEnvironment(
        {"AT_USERNAME": "sandbox", "AT_API_KEY": "key", "AT_VOICE_NUMBER": "+254711082000"}
    )
    Config.from_env(env)
    gunicorn_source = "".join(
        (REPO_ROOT / "service" / name).read_text(encoding="utf-8")
        for name in ("gunicorn_conf.py", "server_settings.py", "server.py")
    )
    gunicorn_settings = set(re.findall(r'"(VOICE_[A-Z_]+)"', gunicorn_source))
    assert gunicorn_settings, "gunicorn_conf.py reads no VOICE_* variable?"
    documented = list(readme_table_variables("Configuration"))
    assert len(documented) == len(set(documented)), "a variable is listed twice"
    assert set(documented) == env.asked | gunicorn_settings
