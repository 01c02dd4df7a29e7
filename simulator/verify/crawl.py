"""A bounded crawl of the app's call tree, driven by what the app answers.

Each node is one simulated call in which the phone user presses given keys at the first
GetDigits prompts and nothing afterwards. After the call, its exchanges are replayed against
AT's rules to find the GetDigits prompts the user left unanswered (the *frontier*); each
becomes a branch point with one child call per distinct input the prompt can take (every
key including ``*`` and ``#``, longer entries, entries cut short by the timeout). A call
that met a ``Dial`` gets a sibling in which the dialled numbers pick up, and one that met a
partial ``Record`` a sibling in which the caller says nothing. Prompts already explored
(the same document at the same place) are not explored again, which is what keeps menus
that loop back from being crawled forever; the breadth-first order and a call budget bound
the rest.

The crawl goes past problems: an answer is carried out as AT most plausibly would
(``ParseResult.executable``: an element AT does not have is skipped, a Say after a Redirect
never runs), so one mistake does not hide the branches behind it. What it could not explore is
named with the reason (:class:`~at_voice_kit.simulator.verify.scenarios.Unreached`): an answer
that ended the call, an element skipped with what it led to, a prompt deeper than
``--crawl-depth``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from at_voice_kit.contracts.actionxml import (
    Conference,
    Dequeue,
    Dial,
    Enqueue,
    GetDigits,
    ParseResult,
    Record,
    Redirect,
    Reject,
    Response,
    parse,
)
from at_voice_kit.contracts.vocabulary import Direction
from at_voice_kit.simulator.engine.callee import CalleeAnswer, CalleeScript
from at_voice_kit.simulator.engine.phone_user import KeyPresses, collect_digits
from at_voice_kit.simulator.verify.exchanges import Exchange, Role
from at_voice_kit.simulator.verify.scenarios import CallScenario, Category, Unreached

KEYPAD = "1234567890*#"
_TOP_LEVEL = re.compile(r"Response/[^/]+\[[0-9]+\]\Z")
"""The path of an action (a child of ``Response``): an error there skips the whole action."""
CALLER_PATIENCE_SECONDS = 300.0
"""Crawled callers hang up after five minutes at most: a menu that repeats itself on
silence forever still ends."""
SPEECH_SECONDS = 5.0
"""How long the caller talks into a Record (0 in the silent sibling)."""


@dataclass(frozen=True, slots=True)
class CrawlNode:
    """One call of the crawl: keys at each GetDigits (``""``: none), and the variations."""

    direction: Direction
    entries: tuple[str, ...] = ()
    legs_answer: bool = False
    silent: bool = False

    @property
    def scenario_id(self) -> str:
        """A stable id naming the path, e.g. ``crawl/outbound/1-_-2#/dial-answered``."""
        path = "-".join(entry or "_" for entry in self.entries) or "start"
        suffix = ("/dial-answered" if self.legs_answer else "") + ("/silent" if self.silent else "")
        return f"crawl/{self.direction.value.lower()}/{path}{suffix}"

    def title(self) -> str:
        """What the caller does, in words."""
        steps = [f"presses {entry}" if entry else "presses nothing" for entry in self.entries]
        text = f"{self.direction.value.lower()} call"
        text += ": " + ", then ".join(steps) if steps else ": no input"
        if self.legs_answer:
            text += "; the dialled numbers answer"
        if self.silent:
            text += "; the caller says nothing into recordings"
        return text

    def scenario(self, phone_number: str) -> CallScenario:
        """The call this node runs."""
        return CallScenario(
            self.scenario_id,
            self.title(),
            Category.CRAWL,
            self.direction,
            phone_number,
            CalleeScript(
                answer=CalleeAnswer.ANSWERED,
                digits=self.entries,
                hangup_after=CALLER_PATIENCE_SECONDS,
                speech_seconds=0.0 if self.silent else SPEECH_SECONDS,
            ),
            legs_answer=self.legs_answer,
        )


@dataclass(frozen=True, slots=True)
class Frontier:
    """A GetDigits the caller left unanswered: entry ``entry_index`` of the script."""

    entry_index: int
    prompt: GetDigits
    state: str


@dataclass(frozen=True, slots=True)
class DeadEnd:
    """Where a call could not go on as the app meant; ``key`` names it across calls (the
    same document's same element is one dead end however many calls met it)."""

    key: str
    unreached: Unreached


@dataclass(frozen=True, slots=True)
class Replay:
    """What a call went through, reconstructed from its exchanges."""

    frontiers: tuple[Frontier, ...]
    met_dial: bool
    met_partial_record: bool
    dead_ends: tuple[DeadEnd, ...] = ()


def collected(entry: str, prompt: GetDigits, default_finish_on_key: str | None = None) -> str:
    """The digits AT posts when the caller types ``entry`` at ``prompt`` (the engine's rules;
    a scripted caller types fast enough never to be cut off)."""
    finish = prompt.finish_on_key if prompt.finish_on_key is not None else default_finish_on_key
    times = tuple(round(0.1 * (n + 1), 3) for n in range(len(entry)))
    outcome = collect_digits(
        KeyPresses(entry, times) if entry else None,
        num_digits=prompt.num_digits,
        finish_on_key=finish,
        timeout=float(max(prompt.effective_timeout, 1)),
    )
    return outcome.digits


def inputs_for(prompt: GetDigits) -> list[str]:
    """Entries worth trying at ``prompt``: one per distinct set of digits AT would post."""
    finish, count = prompt.finish_on_key, prompt.num_digits
    candidates: list[str] = []
    if count is not None and count > 1:
        candidates.extend(key * count for key in KEYPAD)
        candidates.append("12345678901234567890"[: count - 1])  # too short: the timeout ends it
        if finish:
            candidates.append("1" + finish[0])  # ended early with finishOnKey
    else:
        candidates.extend(key + (finish[0] if finish and count is None else "") for key in KEYPAD)
        if finish and count is None:
            candidates.extend(("12" + finish[0], "0123456789*" + finish[0]))
    entries: list[str] = []
    seen: set[str] = set()
    for entry in candidates:
        digits = collected(entry, prompt)
        if digits and digits not in seen:
            seen.add(digits)
            entries.append(entry)
    return entries


def replay(node: CrawlNode, exchanges: Sequence[Exchange], session_id: str) -> Replay:
    """Walk the answers of a call the way AT carried them out, consuming the node's entries."""
    entry_index = 0
    frontiers: list[Frontier] = []
    dead_ends: list[DeadEnd] = []
    met_dial = met_record = False
    live = [e for e in exchanges if e.role in (Role.FIRST, Role.LIVE)]
    for exchange in live:
        result = _carried_out(exchange)
        if isinstance(result, str):
            dead_ends.append(_ended_call(node, exchange, result))
            break
        document = _document_key(exchange.answer.body, session_id)
        dead_ends.extend(_skipped(node, exchange, result, document))
        state_prefix = f"{node.direction}|{document}"
        for position, action in enumerate(result.executable.actions if result.executable else ()):
            if isinstance(action, GetDigits):
                entry = node.entries[entry_index] if entry_index < len(node.entries) else ""
                if entry_index >= len(node.entries):
                    frontiers.append(Frontier(entry_index, action, f"{state_prefix}|{position}"))
                entry_index += 1
                if collected(entry, action):
                    break  # AT posts the digits; the call goes on with the next answer
            elif isinstance(action, Dial):
                met_dial = True
                if node.legs_answer:
                    break  # connected: the call ends with the bridge
            elif isinstance(action, Record):
                met_record = met_record or not action.terminal
                break
            elif isinstance(action, Redirect | Reject | Enqueue | Dequeue | Conference):
                break
    return Replay(tuple(frontiers), met_dial, met_record, tuple(dead_ends))


def _carried_out(exchange: Exchange) -> ParseResult | str:
    """What AT carried out of an answer, or why the answer ended the call."""
    answer = exchange.answer
    if answer.status is None:
        return answer.error or "no answer"
    if not answer.is_2xx:
        return f"HTTP {answer.status}"
    if not answer.body.strip():
        return ParseResult(Response(), executable=Response())
    result = parse(answer.body)
    if result.executable is None:
        return f"not ActionXML AT can read: {result.problems[0]}"
    return result


def _ended_call(node: CrawlNode, exchange: Exchange, why: str) -> DeadEnd:
    where = f"{node.scenario_id} (request {exchange.index})"
    reason = f"the app's answer ended the call ({why}): what follows it was not explored"
    return DeadEnd(f"{where}|{why}", Unreached(where, reason))


def _skipped(
    node: CrawlNode, exchange: Exchange, result: ParseResult, document: str
) -> list[DeadEnd]:
    """The actions AT could not carry out (an error on the element itself): skipped, so
    whatever the app meant to follow from them was not explored."""
    return [
        DeadEnd(
            f"{document}|{problem.path}",
            Unreached(
                f"{problem.path} answering request {exchange.index} of {node.scenario_id}",
                f"skipped, AT cannot carry it out ([{problem.rule}] {problem.message}): "
                "what it leads to was not explored",
            ),
        )
        for problem in result.errors
        if _TOP_LEVEL.match(problem.path)
    ]


def _document_key(body: str, session_id: str) -> str:
    """What identifies a document across calls (whitespace and the call's own id aside): a
    digest, so the set of explored prompts holds no app's answer whole."""
    normalised = " ".join(body.replace(session_id, "{sessionId}").split())
    return hashlib.sha256(normalised.encode("utf-8", "surrogatepass")).hexdigest()


def too_deep(node: CrawlNode, replayed: Replay, *, max_depth: int) -> list[DeadEnd]:
    """The prompts this call left unanswered that lie deeper than ``max_depth``."""
    return [
        DeadEnd(
            frontier.state,
            Unreached(
                f"{node.scenario_id}, GetDigits number {frontier.entry_index + 1}",
                f"deeper than --crawl-depth {max_depth}: its inputs were not tried",
            ),
        )
        for frontier in replayed.frontiers
        if frontier.entry_index >= max_depth
    ]


def children(
    node: CrawlNode, replayed: Replay, explored: set[str], *, max_depth: int
) -> list[CrawlNode]:
    """The calls that explore the branches this call left open (``explored`` is updated):
    one per input at each unexplored prompt, plus the variations of this very call."""
    found: list[CrawlNode] = []
    for frontier in replayed.frontiers:
        if frontier.state in explored or frontier.entry_index >= max_depth:
            continue
        explored.add(frontier.state)
        prefix = node.entries + ("",) * (frontier.entry_index - len(node.entries))
        found.extend(
            CrawlNode(node.direction, (*prefix, entry)) for entry in inputs_for(frontier.prompt)
        )
    if not node.legs_answer and not node.silent:
        if replayed.met_dial:
            found.append(replace(node, legs_answer=True))
        if replayed.met_partial_record:
            found.append(replace(node, silent=True))
    return found


def roots(directions: Iterable[Direction]) -> list[CrawlNode]:
    """The first call of the crawl in each direction: the caller presses nothing."""
    return [CrawlNode(direction) for direction in directions]
