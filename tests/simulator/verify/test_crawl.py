"""The crawl: which inputs it tries at a prompt, how it reads a call back, and that it reaches
every branch of an app with menus, PINs, account numbers, fallbacks and loops."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from at_voice_kit.contracts.actionxml import GetDigits, Say
from at_voice_kit.contracts.vocabulary import Direction
from at_voice_kit.simulator.verify import Category, Role, Target, VerifyOptions, verify
from at_voice_kit.simulator.verify.crawl import (
    CrawlNode,
    Replay,
    children,
    collected,
    inputs_for,
    replay,
)
from at_voice_kit.simulator.verify.exchanges import Answer, Exchange, Origin, SentRequest
from tests.simulator.verify.webhook_apps import IvrApp, Reply, Request, response, say


def prompt(**attributes: object) -> GetDigits:
    return GetDigits(Say("Press"), **attributes)  # type: ignore[arg-type]


def test_a_one_key_menu_tries_every_key_but_its_finish_key() -> None:
    entries = inputs_for(prompt(num_digits=1, finish_on_key="#"))
    assert entries == list("1234567890*")


def test_without_num_digits_or_finish_key_the_first_key_is_sent_so_every_key_counts() -> None:
    entries = inputs_for(prompt())
    assert entries == list("1234567890*#")
    assert [collected(e, prompt()) for e in entries] == entries


def test_an_entry_ended_by_the_finish_key() -> None:
    entries = inputs_for(prompt(finish_on_key="#"))
    assert "1#" in entries and "*#" in entries and "12#" in entries
    assert "0123456789*#" in entries
    assert all(e.endswith("#") for e in entries)
    assert collected("0123456789*#", prompt(finish_on_key="#")) == "0123456789*"


def test_a_pin_gets_full_entries_and_one_the_timeout_cuts_short() -> None:
    pin = prompt(num_digits=4, finish_on_key="#")
    entries = inputs_for(pin)
    assert {"1111", "****", "123", "1#"} <= set(entries)
    assert "####" not in entries  # the finish key alone posts nothing
    assert collected("123", pin) == "123"
    assert collected("1#", pin) == "1"


def _exchange(index: int, body: str, role: Role = Role.LIVE) -> Exchange:
    return Exchange(index, role, Origin.SIMULATED, SentRequest("http://a.test", ()),
                    Answer(200, body))  # fmt: skip


def test_replay_finds_every_prompt_left_unanswered_and_the_variations() -> None:
    menu = ('<Response><GetDigits numDigits="1" callbackUrl="http://a.test/m"><Say>Menu</Say>'
            '</GetDigits><GetDigits numDigits="1"><Say>Second chance</Say></GetDigits>'
            '<Dial phoneNumbers="+254711082001"/></Response>')  # fmt: skip
    node = CrawlNode(Direction.OUTBOUND)
    replayed = replay(node, [_exchange(1, menu, Role.FIRST)], "ATVId_x")
    assert [f.entry_index for f in replayed.frontiers] == [0, 1]
    assert replayed.met_dial and not replayed.met_partial_record
    explored: set[str] = set()
    found = children(node, replayed, explored, max_depth=6)
    paths = [(child.entries, child.legs_answer) for child in found]
    assert (("1",), False) in paths
    assert (("", "1"), False) in paths  # the second prompt, reached by saying nothing
    assert ((), True) in paths  # the same call with the dialled number answering
    # The same prompts again (a menu that loops back) are not explored twice.
    assert children(CrawlNode(Direction.OUTBOUND, ("9",)), replayed, explored, max_depth=6) == [
        CrawlNode(Direction.OUTBOUND, ("9",), legs_answer=True)
    ]


def test_replay_stops_where_the_app_failed() -> None:
    node = CrawlNode(Direction.INBOUND)
    failed = Exchange(1, Role.FIRST, Origin.SIMULATED, SentRequest("http://a.test", ()),
                      Answer(500, "<Response><GetDigits/></Response>"))  # fmt: skip
    assert replay(node, [failed], "ATVId_x") == Replay((), False, False)


class BankIvr(IvrApp):
    """Three levels: a menu, a PIN, then an account number ended by '#'; '*' goes back."""

    def welcome(self, request: Request) -> Reply:
        return Reply(response(
            f'<GetDigits numDigits="1" callbackUrl={quoteattr(request.url("menu"))}>'
            + say("Press 1 for your balance, 2 for a transfer.") + "</GetDigits>",
            f'<GetDigits numDigits="1" callbackUrl={quoteattr(request.url("menu"))}>'
            + say("Still there? Press 1 or 2.") + "</GetDigits>",
            say("Goodbye."),
        ))  # fmt: skip

    def choice(self, request: Request, digits: str) -> Reply:
        if digits == "1":
            return Reply(response(
                f'<GetDigits numDigits="4" finishOnKey="#" timeout="10" '
                f'callbackUrl={quoteattr(request.url("pin"))}>'
                + say("Enter your PIN.") + "</GetDigits>"
            ))  # fmt: skip
        return Reply(response(say("Transfers are closed."), say("Goodbye.")))

    def instruct(self, request: Request) -> Reply:
        form = request.form
        if form.get("isActive") != "0" and request.query.get("step") == "pin":
            self.pins.append(form["dtmfDigits"])
            if form["dtmfDigits"].startswith("*"):
                return Reply(response(f"<Redirect>{request.url('start')}</Redirect>"))
            return Reply(response(
                f'<GetDigits finishOnKey="#" callbackUrl={quoteattr(request.url("account"))}>'
                + say("Enter the account number, then hash.") + "</GetDigits>"
            ))  # fmt: skip
        if form.get("isActive") != "0" and request.query.get("step") == "account":
            self.accounts.append(form["dtmfDigits"])
            return Reply(response(say("Your balance is 100 shillings.")))
        return super().instruct(request)

    def __init__(self) -> None:
        super().__init__()
        self.pins: list[str] = []
        self.accounts: list[str] = []


def test_the_crawl_reaches_every_branch_of_a_three_level_app() -> None:
    app = BankIvr()
    options = VerifyOptions(seed=3, categories=frozenset({Category.CRAWL}), crawl_calls=60)
    report = verify(Target.in_process(app, "/voice", events=False), options)
    assert report.ok, report.summary()
    ids = {result.id for result in report.results}
    assert "crawl/outbound/_-2" in ids  # the second chance prompt, reached by silence
    assert "crawl/outbound/1-1111" in ids
    assert "crawl/outbound/1-1111-1#" in ids  # the account number
    assert {"1111", "****", "123"} <= set(app.pins)
    assert "0123456789*" in app.accounts
    # '*' at the PIN goes back to the menu, which is not crawled a second time from there.
    assert not any(i.startswith("crawl/outbound/1-****-") for i in ids)
    dtmf = {
        exchange.request.field("dtmfDigits")
        for result in report.results
        for exchange in result.exchanges
    }
    assert {"1", "2", "*", "#", "0"} <= dtmf


def test_the_crawl_budget_bounds_the_calls_per_direction() -> None:
    options = VerifyOptions(seed=3, categories=frozenset({Category.CRAWL}), crawl_calls=5)
    report = verify(Target.in_process(BankIvr(), "/voice", events=False), options)
    by_direction = [r.scenario.direction for r in report.results]  # type: ignore[union-attr]
    assert by_direction.count(Direction.OUTBOUND) == 5
    assert by_direction.count(Direction.INBOUND) == 5


def test_depth_limits_how_many_prompts_deep_the_crawl_goes() -> None:
    options = VerifyOptions(seed=3, categories=frozenset({Category.CRAWL}), crawl_depth=1)
    report = verify(Target.in_process(BankIvr(), "/voice", events=False), options)
    assert max(len(r.id.split("/")[2].split("-")) for r in report.results) == 1
