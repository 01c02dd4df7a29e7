"""The backend's seams for the call engine: launcher, call phases and bridging, queues,
settlement against the reservation, and the journal's webhook records."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from at_voice_kit.contracts.vocabulary import Direction
from at_voice_kit.simulator.backend.calls import (
    Call,
    CallPhase,
    RecordingLauncher,
    SeededSessionIds,
)
from at_voice_kit.simulator.backend.destinations import DestinationPlan, Tariff
from at_voice_kit.simulator.backend.exceptions import Conflict, UnknownCall
from at_voice_kit.simulator.backend.journal import Journal, WebhookExchange
from at_voice_kit.simulator.backend.platform_config import (
    DEFAULT_API_KEY,
    DEFAULT_AT_NUMBER,
    DEFAULT_USERNAME,
    SimulatorConfig,
)
from at_voice_kit.simulator.backend.queues import QueueRegistry
from at_voice_kit.simulator.backend.voice import Credentials, VoiceBackend
from at_voice_kit.simulator.configuration.sources import load_config_file
from at_voice_kit.simulator.engine.ports import WebhookKind, WebhookRequest, WebhookResult
from at_voice_kit.simulator.network.pricing import account_rate_table

CREDENTIALS = Credentials(DEFAULT_USERNAME, DEFAULT_API_KEY)
MOMENT = datetime(2025, 9, 29, 10, 30, tzinfo=UTC)


def backend_with_call() -> tuple[VoiceBackend, str]:
    backend = VoiceBackend(SimulatorConfig(seed=11), wall_clock=lambda: MOMENT)
    placement = backend.place_calls(CREDENTIALS, DEFAULT_AT_NUMBER, ["+254711082001"])
    session_id = placement.entries[0].session_id
    assert session_id is not None
    return backend, session_id


def test_session_ids_are_deterministic_per_seed() -> None:
    first, second = SeededSessionIds(3), SeededSessionIds(3)
    ids = [first.next_id() for _ in range(5)]
    assert ids == [second.next_id() for _ in range(5)]
    assert all(len(i) == 38 and i.startswith("ATVId_") and i[6:] == i[6:].lower() for i in ids)
    first.reset()
    assert first.next_id() == ids[0]


def test_calls_carry_the_injected_clock_and_the_reservation() -> None:
    backend, session_id = backend_with_call()
    call = backend.calls.get(session_id)
    assert (call.created_at, call.reserved, call.currency) == (MOMENT, Decimal("2.50"), "KES")
    assert backend.accounts.get(DEFAULT_USERNAME).balance == Decimal("9997.50")


def test_settling_a_call_charges_its_cost_against_the_reservation() -> None:
    backend, session_id = backend_with_call()
    backend.settle_call(session_id, Decimal("5.75"))
    assert backend.accounts.get(DEFAULT_USERNAME).balance == Decimal("9994.25")
    assert backend.calls.get(session_id).cost == Decimal("5.75")
    with pytest.raises(Conflict):
        backend.settle_call(session_id, Decimal("1"))


def test_a_call_that_cost_nothing_gives_the_reservation_back() -> None:
    backend, session_id = backend_with_call()
    backend.settle_call(session_id, Decimal("0"))
    assert backend.accounts.get(DEFAULT_USERNAME).balance == Decimal("10000.00")


def test_phases_and_bridges_are_recorded() -> None:
    backend, session_id = backend_with_call()
    calls = backend.calls
    assert calls.set_phase(session_id, CallPhase.ACTIVE).phase is CallPhase.ACTIVE
    peer = Call(
        "ATVId_" + "c" * 32,
        DEFAULT_USERNAME,
        Direction.INBOUND,
        DEFAULT_AT_NUMBER,
        "+254711082005",
        MOMENT,
    )
    calls.add(peer)
    calls.bridge(session_id, peer.session_id)
    assert calls.get(session_id).bridged_with == peer.session_id
    assert calls.get(peer.session_id).bridged_with == session_id
    calls.unbridge(peer.session_id)
    assert calls.get(session_id).bridged_with is None
    with pytest.raises(UnknownCall):
        calls.set_phase("ATVId_missing", CallPhase.ENDED)


def test_reset_resets_the_launcher_too() -> None:
    launcher = RecordingLauncher()
    backend = VoiceBackend(SimulatorConfig(), launcher=launcher)
    backend.place_calls(CREDENTIALS, DEFAULT_AT_NUMBER, ["+254711082001"])
    assert len(launcher.launched) == 1
    backend.reset()
    assert launcher.launched == []
    assert backend.calls.all() == ()


def test_queues_are_fifo_per_number_and_name() -> None:
    queues = QueueRegistry(threading.RLock())
    queues.enqueue("+254711082000", "", "a")
    queues.enqueue("+254711082000", "", "b")
    queues.enqueue("+254711082000", "", "a")  # already waiting: not twice
    queues.enqueue("+254711082000", "vip", "c")
    queues.enqueue("+254711082009", "", "d")
    assert queues.sizes("+254711082000") == {"": 2, "vip": 1}
    assert queues.remove("b")
    assert not queues.remove("b")
    assert queues.dequeue("+254711082000", "") == "a"
    assert queues.dequeue("+254711082000", "") is None
    assert queues.dequeue("+254711082000", "unknown") is None
    assert queues.sizes("+254711082000") == {"": 0, "vip": 1}  # known queues stay, empty


def test_the_journal_keeps_webhooks_per_session() -> None:
    journal = Journal(threading.RLock())
    exchange = WebhookExchange(
        WebhookRequest("http://127.0.0.1:1/cb", (("isActive", "0"),), WebhookKind.EVENT),
        WebhookResult(None, elapsed=3.0, error="connection refused"),
        sent_at=MOMENT,
    )
    journal.record_webhook("ATVId_x", exchange)
    assert journal.webhooks_for("ATVId_x") == (exchange,)
    assert journal.webhooks_for("ATVId_y") == ()


def test_destinations_are_ats_markets_only() -> None:
    plan = DestinationPlan()
    assert {t.country for t in plan.tariffs} >= {"KE", "UG", "TZ", "NG", "RW", "MW", "ZM", "ET"}
    assert plan.tariff_for("+254711082001") == Tariff("KE", Decimal("2.50"))
    assert plan.tariff_for("+14155550100") is None
    assert DestinationPlan((Tariff("US", Decimal(1)),)).tariff_for("+254711082001") is None


@pytest.mark.parametrize(
    ("number", "country"),
    [("+14165550199", "CA"), ("+12025550143", "US"), ("+18765550123", "JM")],
)
def test_countries_sharing_a_calling_code_are_charged_what_was_reserved(
    number: str, country: str
) -> None:
    """+1 is the US, Canada, Jamaica...: the engine's rate must be the number's own country's,
    the one ``/call`` reserved, or the final amount and the balance disagree with it."""
    tariffs = (
        Tariff("KE", Decimal("2.50")),
        Tariff("US", Decimal("1.00")),
        Tariff("CA", Decimal("6.00")),
        Tariff("JM", Decimal("9.00")),
    )
    reserved = DestinationPlan(tariffs, currency=None).tariff_for(number, "KES")
    assert reserved is not None and reserved.country == country
    charge = account_rate_table(tariffs, "KES").charge(number, Direction.OUTBOUND, 60)
    assert charge.amount == reserved.per_minute


def test_the_default_price_list_is_priced_in_the_accounts_currency_a_configured_one_is_not() -> (
    None
):
    kenyan = "+254711082001"
    default = DestinationPlan()
    assert default.tariff_for(kenyan, "KES") == Tariff("KE", Decimal("2.50"))
    assert default.tariff_for(kenyan, "UGX") == Tariff("KE", Decimal("71.25"))
    assert default.tariff_for(kenyan, "USD") == Tariff("KE", Decimal("0.0193"))
    assert default.tariff_for(kenyan, "XYZ") == Tariff("KE", Decimal("2.50"))  # not converted
    assert dict((t.country, t.per_minute) for t in default.tariffs_in("NGN"))["NG"] == 92
    configured = DestinationPlan((Tariff("KE", Decimal("4")),), currency=None)
    assert configured.tariff_for(kenyan, "UGX") == Tariff("KE", Decimal("4"))
    assert configured.tariffs_in("NGN") == (Tariff("KE", Decimal("4")),)


def test_a_config_file_with_tariffs_prices_in_each_accounts_own_currency(tmp_path: Path) -> None:
    assert SimulatorConfig().tariff_currency == "KES"
    path = tmp_path / "atsim.yaml"
    path.write_text("tariffs: {KE: 1.5}\n")
    assert load_config_file(path).tariff_currency is None
