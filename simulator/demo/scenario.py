"""The calls ``atsim demo`` places: scenarios as data (house principle 8).

The first calls are scripted to show each kind of outcome, the menu flow
(``service/flows/menu.yaml``) walked three ways among them; the rest are left to the
simulator's seeded outcome distribution. Phone numbers come from the Faker provider for AT's
markets, seeded, so a seed gives the same numbers and, through the simulator, the same calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from faker import Faker

from at_voice_kit.simulator.engine.fakedata import AfricasTalkingPhoneProvider

AGENT_NUMBERS = ("+254722000100", "+254733123456")
"""The numbers the menu flow's "agent" step dials (``service/flows/menu.yaml``)."""
DEMO_REGIONS = ("KE", "UG", "TZ", "NG", "RW", "MW", "ZM")
"""Markets the simulator's default tariffs serve, so every demo call is queued."""


@dataclass(frozen=True, slots=True)
class DemoCall:
    """One call of the batch: whom to call, what to show, and how the phone user behaves
    (``script`` is the admin API's callee document; ``None`` leaves it to chance)."""

    label: str
    phone_number: str
    script: dict[str, Any] | None


SCRIPTED: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("menu: 1, leaves a message", "KE",
     {"answer": "answered", "digits": ["1"], "speechSeconds": 7}),
    ("menu: 2, talks to an agent", "KE", {"answer": "answered", "digits": ["2"]}),
    ("menu: 3, opening hours, then silence", "UG",
     {"answer": "answered", "digits": ["3", ""]}),
    ("busy", "TZ", {"answer": "busy"}),
    ("no answer", "NG", {"answer": "no-answer"}),
    ("rejected", "RW", {"answer": "rejected"}),
    ("unreachable", "KE", {"answer": "unreachable"}),
)  # fmt: skip
"""Label, market and callee script of each scripted call, in the order they are placed."""

AGENT_SCRIPTS: dict[str, dict[str, Any]] = {
    AGENT_NUMBERS[0]: {"answer": "no-answer"},
    AGENT_NUMBERS[1]: {"answer": "answered", "hangupAfter": 25},
}
"""The agents the menu's Dial rings: the second picks up and talks for 25 s."""


def build_scenario(calls: int, seed: int) -> list[DemoCall]:
    """``calls`` calls: the scripted ones first (as many as fit), then random ones."""
    fake = Faker()
    fake.add_provider(AfricasTalkingPhoneProvider)
    fake.seed_instance(seed)
    used = set(AGENT_NUMBERS)

    def new_number(region: str) -> str:
        while True:
            number: str = fake.at_phone_number(region)
            if number not in used:
                used.add(number)
                return number

    batch = [
        DemoCall(label, new_number(region), dict(script))
        for label, region, script in SCRIPTED[:calls]
    ]
    for index in range(len(batch), calls):
        region = DEMO_REGIONS[index % len(DEMO_REGIONS)]
        batch.append(DemoCall("random (the simulator decides)", new_number(region), None))
    return batch
