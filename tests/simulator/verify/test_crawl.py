"""The crawl: which inputs it tries at a prompt, how it reads a call back, and that it reaches
every branch of an app with menus, PINs, account numbers, fallbacks and loops."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from at_voice_kit.contracts.actionxml import GetDigits, Reject, Response, Rule, Say
from at_voice_kit.contracts.vocabulary import Direction
from at_voice_kit.simulator.verify import (
    Category,
    Check,
    Role,
    Severity,
    Target,
    VerifyOptions,
    verify,
)
from at_voice_kit.simulator.verify.crawl import (
    CrawlNode,
    children,
    collected,
    inputs_for,
    replay,
)
from at_voice_kit.simulator.verify.exchanges import Answer, Exchange, Origin, SentRequest
from at_voice_kit.simulator.verify.execution import carried_out
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
    replayed = replay(node, [failed], "ATVId_x")
    assert (replayed.frontiers, replayed.met_dial, replayed.met_partial_record) == (
        (),
        False,
        False,
    )
    [dead_end] = replayed.dead_ends
    assert dead_end.unreached.where == "crawl/inbound/start (request 1)"
    assert dead_end.unreached.reason.startswith("the app's answer ended the call (HTTP 500)")


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


class MistakesEverywhere(IvrApp):
    """Three mistakes on three levels: an element AT does not have before the menu, a Say left
    after a Redirect in branch 2, and a crash behind both (key 3, and the Redirect's target)."""

    def welcome(self, request: Request) -> Reply:
        return Reply(response(
            '<CollectDigits numDigits="1"><Say>Press 1</Say></CollectDigits>',
            f'<GetDigits numDigits="1" callbackUrl={quoteattr(request.url("menu"))}>'
            + say("Press 1 for sales, 2 for support, 3 for your balance.") + "</GetDigits>",
        ))  # fmt: skip

    def choice(self, request: Request, digits: str) -> Reply:
        if digits == "2":
            return Reply(response(f"<Redirect>{request.url('support')}</Redirect>",
                                  say("never heard")))  # fmt: skip
        if digits == "3":
            raise RuntimeError("balance lookup failed")
        return super().choice(request, digits)

    def instruct(self, request: Request) -> Reply:
        if request.query.get("step") == "support" and request.form.get("isActive") == "1":
            raise KeyError("support queue")
        return super().instruct(request)


def test_one_run_crawls_past_every_problem_and_finds_them_all() -> None:
    options = VerifyOptions(seed=3, categories=frozenset({Category.CRAWL}), crawl_calls=30)
    report = verify(Target.in_process(MistakesEverywhere(), "/voice", events=False), options)
    found = {(g.check, g.severity, g.example.finding.problem.rule if g.example.finding.problem
              else None) for g in report.problems()}  # fmt: skip
    assert (Check.ACTIONXML_VALID, Severity.ERROR, Rule.UNKNOWN_ELEMENT) in found
    assert (Check.NOTHING_AFTER_TERMINAL, Severity.WARNING, Rule.AFTER_TERMINAL) in found
    crashes = [g for g in report.errors if g.check is Check.STATUS_2XX]
    scenarios = {sid for group in crashes for sid in group.scenario_ids()}
    assert "crawl/outbound/3" in scenarios  # behind the element AT does not have
    assert "crawl/outbound/2" in scenarios  # the Redirect's target, behind the dead Say
    reasons = {branch.reason for branch in report.unreached}
    assert any(r.startswith("skipped, AT cannot carry it out ([unknown-element]") for r in reasons)
    assert any(r.startswith("the app's answer ended the call (HTTP 500)") for r in reasons)
    summary = report.summary()
    assert "Not covered (" in summary and "Response/CollectDigits[1]" in summary


def test_what_the_budget_and_the_depth_left_out_is_named() -> None:
    options = VerifyOptions(seed=3, categories=frozenset({Category.CRAWL}), crawl_calls=3,
                            crawl_depth=1)  # fmt: skip
    report = verify(Target.in_process(BankIvr(), "/voice", events=False), options)
    reasons = [branch.reason for branch in report.unreached]
    assert "not run: the crawl's budget of 3 calls per direction was spent" in reasons
    assert "deeper than --crawl-depth 1: its inputs were not tried" in reasons
    data = report.to_json()["unreached"]
    assert {"where", "reason"} <= set(data[0]) and len(data) == len(report.unreached)


def test_the_engine_carries_out_what_at_would_and_the_checks_keep_the_problems() -> None:
    parsed = carried_out("<Response><Say>Hi</Say><Hangup/><Reject/></Response>")
    assert parsed.ok and parsed.response == Response((Say("Hi"), Reject()))
    unreadable = carried_out("<html>nope</html>")
    assert unreadable.response is None and not unreadable.ok
