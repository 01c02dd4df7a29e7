"""When a run must stop before its plan is done, and the one root cause behind what follows.

Three things end a run early, each within a bound a CI job can live with:

* ``--max-time``: the run's own deadline;
* the app stopped accepting connections (it crashed, or was stopped): after a request fails
  without an answer, verify tries to connect to the app's host and port; refused, the run
  stops, and the first request that failed is named as the root cause;
* the app answers nothing in time: when no request to one of its URLs (callback or events)
  has been answered within AT's timeout for :data:`STALLED_TIMEOUTS` timeouts in a row, the
  run stops (an app answering every callback after 12 s, past AT's 10 s, kept verify
  busy for over four minutes before).

Once stopped, no scenario starts, and a request still waiting for the app is cut short; such
requests are not judged, and the scenarios not run are listed in the report. The findings a
root cause explains (every request that then failed the same way) are gathered under it by
:meth:`RootCause.absorb`, so a crashed app is one problem, not dozens.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from at_voice_kit.contracts.urls import host_and_port
from at_voice_kit.simulator.engine.ports import WebhookKind
from at_voice_kit.simulator.verify.checks import Check, Finding
from at_voice_kit.simulator.verify.exchanges import Exchange
from at_voice_kit.simulator.verify.transport import INVALID_URL, Target

STALLED_TIMEOUTS = 2
"""How many whole timeouts without an answer in time, with requests timing out meanwhile,
mean the app answers nothing in time."""
CONNECT_PROBE_SECONDS = 2.0
ROOT_CAUSE_KEY = "root-cause"
_URL_NAMES = {WebhookKind.CALLBACK: "callback URL", WebhookKind.EVENT: "events URL"}


@dataclass(frozen=True, slots=True)
class RootCause:
    """What made the run stop, shown once with everything it explains.

    ``exchange`` (of scenario ``scenario_id``) is the first request that showed it; findings of
    ``check`` on requests to ``kind`` sent from then on are its consequences.
    """

    check: Check
    headline: str
    exchange: Exchange
    scenario_id: str
    kind: WebhookKind | None = None

    def absorb(self, finding: Finding) -> Finding:
        """``finding`` as a consequence of this root cause, or unchanged if it is not one."""
        exchange = finding.exchange
        consequence = (
            finding.check is self.check
            and exchange.probe is None
            and exchange.sent_at >= self.exchange.sent_at
            and (self.kind is None or exchange.role.kind is self.kind)
        )
        if not consequence:
            return finding
        return replace(finding, key=ROOT_CAUSE_KEY, headline=self.headline)

    def is_example(self, scenario_id: str, exchange: Exchange) -> bool:
        """True for the request that showed the root cause first."""
        return (scenario_id, exchange.index) == (self.scenario_id, self.exchange.index)


class RunGuard:
    """Watches a run's answers and its deadline; :attr:`reason` says why it stopped, if it did."""

    def __init__(
        self,
        target: Target,
        *,
        timeout: float,
        max_time: float | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.target = target
        self.timeout = timeout
        self.max_time = max_time
        self.clock = clock
        self.reason: str | None = None
        self.root_cause: RootCause | None = None
        self._stopped = asyncio.Event()
        started = clock()
        self._answered_at = dict.fromkeys(WebhookKind, started)
        self._late: dict[WebhookKind, list[tuple[Exchange, str]]] = {k: [] for k in WebhookKind}
        self._failed: list[tuple[Exchange, str]] = []
        self._probing = asyncio.Lock()

    @property
    def stopped(self) -> bool:
        """True once the run must stop."""
        return self._stopped.is_set()

    async def wait_stopped(self) -> None:
        """Return once the run must stop."""
        await self._stopped.wait()

    def stop(self, reason: str, root_cause: RootCause | None = None) -> None:
        """Stop the run (the first reason given is kept)."""
        if self.reason is None:
            self.reason, self.root_cause = reason, root_cause
            self._stopped.set()

    async def keep_deadline(self) -> None:
        """Stop the run when ``max_time`` has passed (run as a task for the run's length)."""
        if self.max_time is None:
            return
        await asyncio.sleep(self.max_time)
        self.stop(f"--max-time {self.max_time:g} s ran out")

    async def observe(self, exchange: Exchange, scenario_id: str) -> None:
        """Take one answered (or failed) request into account."""
        answer, kind = exchange.answer, exchange.role.kind
        if answer.status is not None:
            self._answered_at[kind] = self.clock()
            self._late[kind].clear()
            self._failed.clear()
        elif answer.timed_out:
            self._late[kind].append((exchange, scenario_id))
            self._check_stalled(kind)
        elif not (answer.error or "").startswith(INVALID_URL):
            self._failed.append((exchange, scenario_id))
            await self._check_vanished(exchange)

    def _check_stalled(self, kind: WebhookKind) -> None:
        if not self._stalled(kind):
            return
        # The other URL too, when none of its late requests has been followed by an answer
        # in time (one app behind both, most often): one root cause for both.
        stalled = [k for k in WebhookKind if k is kind or self._late[k]]
        late = [item for k in stalled for item in self._late[k]]
        first, scenario_id = min(late, key=lambda item: item[0].sent_at)
        url = _URL_NAMES[kind] if len(stalled) == 1 else "callback and events URLs"
        silent_for = self.clock() - self._answered_at[kind]
        headline = (
            f"The app's {url} answered nothing within AT's {self.timeout:g} s timeout for "
            f"{silent_for:.0f} s ({len(late)} requests in a row): verify stopped the run"
        )
        root_kind = kind if len(stalled) == 1 else None
        root = RootCause(Check.ANSWERED_IN_TIME, headline, first, scenario_id, root_kind)
        self.stop(f"the app's {url} answered nothing in time", root)

    def _stalled(self, kind: WebhookKind) -> bool:
        silent_for = self.clock() - self._answered_at[kind]
        return (
            len(self._late[kind]) >= STALLED_TIMEOUTS
            and silent_for >= STALLED_TIMEOUTS * self.timeout
        )

    async def _check_vanished(self, exchange: Exchange) -> None:
        """After a request got no answer: is the app still accepting connections?"""
        if self.target.is_in_process or self.stopped:
            return
        address = self._app_address(exchange.request.url)
        if address is None:
            return  # a URL the app handed over, on another server: not the app's own
        async with self._probing:
            if self.stopped or await _accepts_connections(*address):
                return
        first, scenario_id = min(self._failed, key=lambda item: item[0].sent_at)
        host, port = address
        headline = (
            f"The app stopped accepting connections at {host}:{port} (it crashed or was "
            f"stopped) when request {first.index} of {scenario_id} failed: verify stopped the run"
        )
        self.stop("the app stopped accepting connections", RootCause(
            Check.REACHABLE, headline, first, scenario_id))  # fmt: skip

    def _app_address(self, url: str) -> tuple[str, int] | None:
        address = _address(url)
        own = {_address(self.target.callback_url)}
        if self.target.events_url is not None:
            own.add(_address(self.target.events_url))
        return address if address in own else None


def _address(url: str) -> tuple[str, int] | None:
    try:
        return host_and_port(url)
    except ValueError:
        return None


async def _accepts_connections(host: str, port: int) -> bool:
    """False when nothing accepts connections there any more (refused, or no route); a
    connection that only takes long is an app under load, not a vanished one."""
    try:
        async with asyncio.timeout(CONNECT_PROBE_SECONDS):
            _, writer = await asyncio.open_connection(host, port)
    except TimeoutError:
        return True
    except OSError:
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True
