"""Running a verification: plan the scenarios, run them against the target, judge every
answer, and gather the report.

The crawl of the app's call tree runs first, breadth first, a level of calls at a time (so
its choices, and hence the whole run, depend only on the seed and the app's answers, never on
timing); the fixed scenarios follow. Every simulated call has its own engine and virtual
clock, so calls take milliseconds however long they last in simulated time, and any number
can run side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar, cast

import at_voice_kit.simulator.verify.catalogue as catalogue
import at_voice_kit.simulator.verify.crawl as crawl
import at_voice_kit.simulator.verify.event_orders as event_orders
import at_voice_kit.simulator.verify.generated as generated
import at_voice_kit.simulator.verify.variants as variants
from at_voice_kit.contracts.urls import host_and_port
from at_voice_kit.contracts.vocabulary import Direction
from at_voice_kit.simulator.verify.checks import Check, judge
from at_voice_kit.simulator.verify.exchanges import Answer, Exchange, Origin, Role, SentRequest
from at_voice_kit.simulator.verify.execution import RunContext, run_call, run_requests
from at_voice_kit.simulator.verify.options import VerifyOptions
from at_voice_kit.simulator.verify.progress import NoProgress, Progress
from at_voice_kit.simulator.verify.recordings import RecordingServer
from at_voice_kit.simulator.verify.report import VerifyReport
from at_voice_kit.simulator.verify.results import ScenarioResult
from at_voice_kit.simulator.verify.run_guard import RootCause, RunGuard
from at_voice_kit.simulator.verify.scenarios import (
    CallScenario,
    Category,
    RequestScenario,
    Scenario,
    Unreached,
    session_id_for,
)
from at_voice_kit.simulator.verify.transport import Poster, Target, open_client

T = TypeVar("T")
PREFLIGHT_TIMEOUT = 5.0
"""Seconds to wait for the callback URL's server to accept a connection before anything."""


async def run_scenario(context: RunContext, scenario: Scenario) -> ScenarioResult | None:
    """Run one scenario, waiting for a free slot first; None when the run stopped before it
    could start (it is noted as not run)."""
    async with context.slots:
        if context.guard.stopped:
            reason = f"not run: verify stopped the run ({context.guard.reason})"
            context.not_explored(scenario.id, Unreached(scenario.id, reason))
            return None
        if isinstance(scenario, CallScenario):
            result = await run_call(context, scenario)
        else:
            result = await run_requests(context, scenario)
    context.progress.finished(result)
    return result


async def run_all(context: RunContext, scenarios: Sequence[Scenario]) -> list[ScenarioResult]:
    """Run scenarios side by side (``concurrency`` at a time); results in the given order,
    as the report keeps them (answers cut to their start once judged)."""
    context.progress.planned(len(scenarios))
    ran = await asyncio.gather(*(run_scenario(context, s) for s in scenarios))
    return [result.kept() for result in ran if result is not None]


async def explore(
    context: RunContext, node: crawl.CrawlNode, scenario: Scenario
) -> tuple[ScenarioResult, crawl.Replay] | None:
    """Run one call of the crawl and replay its answers (whole) to find the branches it left
    open; the result is then kept as the report keeps it."""
    result = await run_scenario(context, scenario)
    if result is None:
        return None
    session_id = session_id_for(context.seed, node.scenario_id)
    return result.kept(), crawl.replay(node, result.exchanges, session_id)


async def run_crawl(context: RunContext) -> list[ScenarioResult]:
    """Crawl the app's call tree in both directions, a breadth-first level at a time."""
    explored: set[str] = set()
    level = crawl.roots((Direction.OUTBOUND, Direction.INBOUND))
    spent = dict.fromkeys(Direction, 0)
    results: list[ScenarioResult] = []
    while level:
        allowed = _within_budget(context, level, spent)
        scenarios = context.take([node.scenario(context.options.phone_number) for node in allowed])
        for node in allowed[len(scenarios) :]:
            reason = f"not run: --max-scenarios {context.options.max_scenarios}"
            context.not_explored(node.scenario_id, Unreached(node.scenario_id, reason))
        context.progress.planned(len(scenarios))
        explored_level = await asyncio.gather(
            *(explore(context, node, s) for node, s in zip(allowed, scenarios, strict=False))
        )
        ran = [(n, e) for n, e in zip(allowed, explored_level, strict=False) if e is not None]
        results.extend(result for _, (result, _) in ran)
        level = _next_level(
            context, [n for n, _ in ran], [replayed for _, (_, replayed) in ran], explored, results
        )
    return results


def _within_budget(
    context: RunContext, level: list[crawl.CrawlNode], spent: dict[Direction, int]
) -> list[crawl.CrawlNode]:
    """The nodes the crawl budget still allows; the others are noted as not explored."""
    budget = context.options.crawl_budget
    allowed: list[crawl.CrawlNode] = []
    for node in level:
        if spent[node.direction] < budget:
            spent[node.direction] += 1
            allowed.append(node)
        else:
            reason = f"not run: the crawl's budget of {budget} calls per direction was spent"
            context.not_explored(node.scenario_id, Unreached(node.scenario_id, reason))
    return allowed


def _next_level(
    context: RunContext,
    nodes: list[crawl.CrawlNode],
    replays: list[crawl.Replay],
    explored: set[str],
    results: list[ScenarioResult],
) -> list[crawl.CrawlNode]:
    """The calls exploring what this level left open; what it could not go past is noted."""
    depth = context.options.crawl_depth
    next_level: list[crawl.CrawlNode] = []
    seen_ids = {result.id for result in results}
    for node, replayed in zip(nodes, replays, strict=True):
        for dead_end in (*replayed.dead_ends, *crawl.too_deep(node, replayed, max_depth=depth)):
            context.not_explored(dead_end.key, dead_end.unreached)
        for child in crawl.children(node, replayed, explored, max_depth=depth):
            if child.scenario_id not in seen_ids:
                seen_ids.add(child.scenario_id)
                next_level.append(child)
    # Variations (the Dial answered, silence into a Record) before more keys: when the
    # budget runs out, the keys left untried are the likeliest to repeat a branch.
    return sorted(next_level, key=lambda child: not (child.legs_answer or child.silent))


def plan_fixed(context: RunContext, forms: list[RequestScenario]) -> list[Scenario]:
    """Every scenario except the crawl's, in category order."""
    options, seed = context.options, context.seed
    parties = catalogue.Parties(options.at_number, options.phone_number)
    has_events = context.target.events_url is not None
    quick = options.quick
    planned: dict[Category, list[Scenario]] = {
        Category.OUTCOMES: [
            *catalogue.outcome_scenarios(parties),
            *variants.undocumented_cause_scenarios(seed, parties),
        ],
        Category.HANGUPS: list(catalogue.hangup_scenarios(parties, quick=quick)),
        Category.MARKETS: list(catalogue.market_scenarios(parties, quick=quick)),
        Category.EVENT_DELIVERY: list(catalogue.event_delivery_scenarios(parties, quick=quick)),
        Category.EVENT_ORDERS: list(event_orders.event_order_scenarios(seed, parties, quick=quick)),
        Category.OPTIONAL_FIELDS: [
            *variants.optional_field_scenarios(seed, parties),
            *variants.spelling_scenarios(seed, parties),
        ],
        Category.GENERATED: list(forms),
    }
    scenarios: list[Scenario] = []
    for category, items in planned.items():
        if category in options.categories and (has_events or not category.needs_events_url):
            scenarios.extend(items)
    return scenarios


async def _preflight(target: Target) -> _Run | None:
    """Can the callback URL's server be reached at all? A report of the failure if not."""
    if target.is_in_process:
        return None
    host, port = host_and_port(target.callback_url)  # a Target's URLs have been checked
    started = time.perf_counter()
    try:
        async with asyncio.timeout(PREFLIGHT_TIMEOUT):
            _, writer = await asyncio.open_connection(host, port)
        writer.close()
        await writer.wait_closed()
        return None
    except (OSError, TimeoutError) as exc:
        error = f"cannot connect to {host}:{port}: {exc or type(exc).__name__}"
    scenario = RequestScenario(
        "preflight/callback-url", "connect to the callback URL", Category.CRAWL,
        Origin.SIMULATED, (),
    )  # fmt: skip
    exchange = Exchange(
        1, Role.FIRST, Origin.SIMULATED, SentRequest(target.callback_url, ()),
        Answer(None, elapsed=time.perf_counter() - started, error=error),
    )  # fmt: skip
    findings = judge(exchange, timeout=PREFLIGHT_TIMEOUT)
    result = ScenarioResult(scenario, (exchange,), findings, (Check.REACHABLE,))
    return _Run([result], ["the target could not be reached: no scenario was run"])


async def averify(
    target: Target, options: VerifyOptions | None = None, *, progress: Progress | None = None
) -> VerifyReport:
    """Verify ``target`` (see :func:`verify`), on the running event loop."""
    options = options or VerifyOptions()
    progress = progress or NoProgress()
    seed = options.seed if options.seed is not None else secrets.randbelow(2**31)
    started = time.perf_counter()
    guard = RunGuard(target, timeout=options.timeout, max_time=options.max_time)
    deadline = asyncio.create_task(guard.keep_deadline())
    try:
        run = await _preflight(target)
        if run is None:
            run = await _run(target, options, seed, progress, guard)
    finally:
        deadline.cancel()
        progress.close()
    return VerifyReport(
        target.callback_url, target.events_url, target.is_in_process, seed, options,
        tuple(run.results), time.perf_counter() - started, tuple(run.notes),
        tuple(run.unreached), guard.reason, guard.root_cause,
    )  # fmt: skip


@dataclass
class _Run:
    """What a run gathered, for the report."""

    results: list[ScenarioResult]
    notes: list[str] = field(default_factory=list)
    unreached: list[Unreached] = field(default_factory=list)


async def _run(
    target: Target, options: VerifyOptions, seed: int, progress: Progress, guard: RunGuard
) -> _Run:
    forms_task: asyncio.Future[list[RequestScenario]] | None = None
    if Category.GENERATED in options.categories:
        # Hypothesis draws take a moment: do it in a thread while the crawl runs.
        forms_task = _in_background(functools.partial(
            generated.generated_scenarios, seed, options.generated_count,
            events=target.events_url is not None,
        ))  # fmt: skip
    run = _Run([])
    with RecordingServer() as recordings:
        async with (
            open_client(target, concurrency=options.concurrency) as client,
            Poster(client, timeout=options.timeout, headers=dict(options.headers)) as poster,
        ):
            context = RunContext(
                target, options, seed, poster, recordings, progress,
                asyncio.Semaphore(options.concurrency), options.max_scenarios, guard,
            )  # fmt: skip
            if Category.CRAWL in options.categories:
                run.results.extend(await run_crawl(context))
            # A run that stopped early does not wait for the draws (they go on, and end,
            # in their own thread): nothing would run them.
            forms = await forms_task if forms_task is not None and not guard.stopped else []
            if forms_task is not None and guard.stopped:
                reason = f"not run: verify stopped the run ({guard.reason})"
                context.not_explored("generated", Unreached("generated/*", reason))
            planned = plan_fixed(context, forms)
            scenarios = context.take(planned)
            for scenario in planned[len(scenarios) :]:
                reason = f"not run: --max-scenarios {options.max_scenarios}"
                context.not_explored(scenario.id, Unreached(scenario.id, reason))
            run.results.extend(await run_all(context, scenarios))
    run.unreached = list(context.unreached.values())
    run.notes = _notes(run.unreached, options, guard)
    if guard.root_cause is not None:
        run.results = [_with_root_cause(result, guard.root_cause) for result in run.results]
    return run


def _in_background(work: Callable[[], T]) -> asyncio.Future[T]:
    """``work()`` in a daemon thread: neither the event loop nor the interpreter waits for it
    at the end (``asyncio.to_thread`` would hold a run that stopped early until it is done)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(cast(T, result))

    def run() -> None:
        try:
            result, error = work(), None
        except Exception as exc:  # handed to the awaiting coroutine
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, name="atsim-verify-forms", daemon=True).start()
    return future


def _notes(unreached: list[Unreached], options: VerifyOptions, guard: RunGuard) -> list[str]:
    """How many planned scenarios were not run, and why."""
    notes: list[str] = []
    limited = sum(1 for u in unreached if u.reason.startswith("not run: --max-scenarios"))
    if limited:
        notes.append(f"{limited} planned scenarios were not run (--max-scenarios "
                     f"{options.max_scenarios})")  # fmt: skip
    if guard.reason is not None:
        stopped = sum(1 for u in unreached if u.reason.startswith("not run: verify stopped"))
        notes.append(f"verify stopped the run early ({guard.reason}): {stopped} planned "
                     "scenarios were not run (listed under 'Not covered')")  # fmt: skip
    return notes


def _with_root_cause(result: ScenarioResult, root: RootCause) -> ScenarioResult:
    """``result`` with the findings the root cause explains gathered under it."""
    return replace(result, findings=tuple(root.absorb(f) for f in result.findings))


def verify(
    target: Target, options: VerifyOptions | None = None, *, progress: Progress | None = None
) -> VerifyReport:
    """Run every scenario against ``target`` and return the report.

    Safe to call from code that already runs an event loop (a pytest-asyncio test): the
    verification then runs on its own loop in a worker thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(averify(target, options, progress=progress))
    outcome: list[VerifyReport] = []
    failure: list[BaseException] = []

    def in_thread() -> None:
        try:
            outcome.append(asyncio.run(averify(target, options, progress=progress)))
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    worker = threading.Thread(target=in_thread, name="atsim-verify")
    worker.start()
    worker.join()
    if failure:
        raise failure[0]
    return outcome[0]
