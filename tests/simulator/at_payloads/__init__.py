"""Real Africa's Talking payloads from public sources, one JSON file each, with its source.

Each file holds ``request`` (which request of a call it is), ``complete`` (whether the source
shows the whole form), ``source`` (kind, URL, repository, path, commit, date, note),
``fields`` (as AT sent them, numbers masked where the source masked them) and
``differences``: fields where the simulator knowingly differs, each with the reason (also in
the fidelity table, ``docs/fidelity.md``). ``tests/simulator/test_at_payloads.py`` holds
the simulator's payloads to every file; ``tests/service/test_at_payloads.py`` posts each to
the service.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


@dataclass(frozen=True)
class AtPayload:
    """One recorded (or documented) AT request."""

    name: str
    request: str
    complete: bool
    source: dict[str, Any]
    fields: dict[str, str]
    differences: dict[str, str]


def at_payloads() -> list[AtPayload]:
    """Every payload file, sorted by name."""
    payloads = []
    for path in sorted(HERE.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        fields, differences = data["fields"], data["differences"]
        kind, complete, source = data["request"], data["complete"], data["source"]
        payloads.append(AtPayload(path.stem, kind, complete, source, fields, differences))
    return payloads
