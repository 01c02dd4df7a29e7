"""The documentation's configuration tables (``docs/service.md``, "Configuration") name every
setting the service, its gunicorn configuration and its worker read, and nothing they do not:
an operator configures from that page."""

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


SERVICE_PAGE = REPO_ROOT / "docs" / "service.md"


def documented_table_variables(section: str) -> Iterator[str]:
    """The variables in the first column of the tables of the service page's ``section``."""
    text = SERVICE_PAGE.read_text(encoding="utf-8")
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
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
    documented = list(documented_table_variables("Configuration"))
    assert len(documented) == len(set(documented)), "a variable is listed twice"
    assert set(documented) == env.asked | gunicorn_settings
