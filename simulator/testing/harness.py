""":class:`AtSimulator`: the handle the ``at_simulator`` pytest fixture gives a test.

It is a window on the running simulator's backend (the same state the HTTP server serves):
set callees, numbers and balances with the admin API's validation rules, simulate inbound
calls, wait for calls to end, and read the journal to assert on what the code under test sent
and what the simulator sent back to it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from at_voice_kit.simulator.backend.calls import Call, CallPhase
from at_voice_kit.simulator.backend.journal import ApiExchange, Journal, WebhookExchange
from at_voice_kit.simulator.backend.numbers import AtNumber
from at_voice_kit.simulator.backend.voice import VoiceBackend
from at_voice_kit.simulator.configuration.fields import check_path_phone_number, check_path_username
from at_voice_kit.simulator.configuration.readers import (
    read_account_changes,
    read_callee,
    read_event_faults,
    read_inbound_call,
    read_number_changes,
)
from at_voice_kit.simulator.engine.callee import answer_for


@dataclass(frozen=True, slots=True)
class AtSimulator:
    """A running simulator: its URL, backend, and the account the SDK was initialised with.

    ``phone_number`` is that account's first AT number, ready to call from (``None`` if a
    config file gave it none).
    """

    url: str
    backend: VoiceBackend
    username: str
    api_key: str
    phone_number: str | None

    @property
    def journal(self) -> Journal:
        """Every API request received and webhook sent."""
        return self.backend.journal

    def requests(self, path: str | None = None) -> tuple[ApiExchange, ...]:
        """The API requests received, oldest first (only those to ``path`` if given)."""
        exchanges = self.backend.journal.api_requests()
        return tuple(x for x in exchanges if path is None or x.path == path)

    def calls(self) -> tuple[Call, ...]:
        """Every call, oldest first."""
        return self.backend.calls.all()

    def call(self, session_id: str) -> Call:
        """One call (``UnknownCall`` if there is none with that id)."""
        return self.backend.calls.get(session_id)

    def webhooks(self, session_id: str) -> tuple[WebhookExchange, ...]:
        """The webhooks sent for one call."""
        return self.backend.journal.webhooks_for(session_id)

    def set_callee(
        self,
        phone_number: str,
        answer: str | None = None,
        digits: Sequence[str] = (),
        hangup_after: float | None = None,
        speech_seconds: float | None = None,
        hangup_cause: str | None = None,
    ) -> None:
        """Script the phone user at ``phone_number`` (same rules as ``PUT callees/{number}``).

        ``hangup_cause`` makes the outcome exact (``"NO_ANSWER"``); ``answer`` defaults to
        ``"answered"``, or to the answer the cause goes with (``"no-answer"`` for
        ``NO_ANSWER``). An impossible pair raises ``InvalidSettings`` naming ``hangupCause``.
        """
        check_path_phone_number(phone_number)
        if answer is None:
            answer = answer_for(hangup_cause)
        script = read_callee(
            {
                "answer": answer,
                "digits": list(digits),
                "hangupAfter": hangup_after,
                "speechSeconds": speech_seconds,
                "hangupCause": hangup_cause,
            }
        )
        self.backend.put_callee(phone_number, script)

    def set_event_faults(
        self,
        delay: float = 0.0,
        duplicate: float = 0.0,
        reorder: float = 0.0,
        delay_seconds: tuple[float, float] = (1.0, 10.0),
    ) -> None:
        """Make events URL posts misbehave with these probabilities (``PUT event-faults``)."""
        self.backend.set_event_faults(
            read_event_faults(
                {
                    "delayProbability": delay,
                    "duplicateProbability": duplicate,
                    "reorderProbability": reorder,
                    "delaySeconds": list(delay_seconds),
                }
            )
        )

    def dial_in(self, caller: str, at_number: str | None = None) -> Call:
        """A phone user calls an AT number (default: the fixture's), like ``POST calls``."""
        inbound = read_inbound_call({"from": caller, "to": at_number or self.phone_number})
        return self.backend.receive_call(inbound.caller, inbound.at_number)

    def wait_for_call(self, session_id: str, timeout: float = 30.0) -> Call:
        """Wait until the call has ended (final request and events sent); the ended call.

        Raises ``TimeoutError`` naming the call's phase if it is still live after ``timeout``
        seconds of wall time.
        """
        deadline = time.monotonic() + timeout
        while True:
            call = self.backend.calls.get(session_id)
            if call.phase is CallPhase.ENDED:
                return call
            if time.monotonic() >= deadline:
                raise TimeoutError(f"call {session_id} still {call.phase.value} after {timeout} s")
            time.sleep(0.01)

    def wait_for_calls(self, timeout: float = 30.0) -> tuple[Call, ...]:
        """Wait until every call has ended; every call, oldest first."""
        deadline = time.monotonic() + timeout
        for call in self.backend.calls.all():
            self.wait_for_call(call.session_id, max(deadline - time.monotonic(), 0.0))
        return self.backend.calls.all()

    def set_number(
        self,
        phone_number: str,
        callback_url: str | None = None,
        events_url: str | None = None,
        username: str | None = None,
    ) -> AtNumber:
        """Create or change an AT number (same rules as ``PUT numbers/{number}``)."""
        check_path_phone_number(phone_number)
        body: dict[str, object] = {"callbackUrl": callback_url, "eventsUrl": events_url}
        if username is not None:
            body["username"] = username
        number, _ = self.backend.put_number(phone_number, read_number_changes(body))
        return number

    def set_balance(self, balance: Decimal | float | str, username: str | None = None) -> None:
        """Set an account's balance (default: the fixture's account)."""
        name = check_path_username(username or self.username)
        value = str(balance) if isinstance(balance, Decimal) else balance
        self.backend.put_account(name, read_account_changes({"balance": value}))

    def reset(self) -> None:
        """Back to the configured start (the fixture does this before every test)."""
        self.backend.reset()
