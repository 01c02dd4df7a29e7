"""The dashboard in a real browser (Debian's headless Chromium, Playwright): the call board
follows an SDK-placed call live, the softphone takes an outbound call and makes an inbound
one, and a simulator with an admin token asks for it.

Every wait is on a condition, with a generous bound: these run on loaded 2-core machines.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import africastalking
import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from at_voice_kit.simulator.testing.sdk import sdk_pointed_at
from tests.simulator.atsim_process import AtsimProcess, atsim_serve
from tests.simulator.dashboard.browser import beeps_in, chromium
from tests.simulator.dashboard.voice_app import SLOW_MENU, WELCOME, voice_app, wired

pytestmark = pytest.mark.e2e

AT_NUMBER = "+254711082000"
USER = "+254711082369"
PERSON = "+254722000100"
SECRET = "dev-phone-secret-value"
WAIT_MS = 60_000
SPOKEN = 2.5


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(WAIT_MS)
    yield page
    context.close()
    assert errors == [], f"the page raised: {errors}"


def open_dashboard(page: Page, sim: AtsimProcess) -> None:
    page.goto(sim.url)
    expect(page.locator("#connection")).to_have_attribute("data-live", "true")


def place_call(sim: AtsimProcess, to: str) -> str:
    """A call placed as an app places it: the official SDK's ``Voice.call``."""
    with sdk_pointed_at(sim.url, "sandbox", "atsim-sandbox-key"):
        answer = africastalking.Voice.call(AT_NUMBER, [to])
    session_id: str = answer["entries"][0]["sessionId"]
    return session_id


def phase(sim: AtsimProcess, session_id: str) -> str:
    return str(httpx.get(f"{sim.url}/_simulator/calls/{session_id}", timeout=10).json()["phase"])


def timeline_items(page: Page) -> int:
    return int(page.locator("#timeline").get_attribute("data-items") or "0")


def test_an_sdk_call_appears_on_the_board_and_its_timeline_grows_while_it_runs(page: Page) -> None:
    with voice_app(SLOW_MENU) as (_, app_url), atsim_serve(*wired(app_url), "--speed", "2") as sim:
        httpx.put(
            f"{sim.url}/_simulator/callees/{USER}",
            json={"answer": "answered", "digits": [""]},  # presses nothing: a 30 s GetDigits
            timeout=10,
        ).raise_for_status()
        open_dashboard(page, sim)
        session_id = place_call(sim, USER)
        row = page.locator(f'#calls li[data-session="{session_id}"]')
        expect(row).to_be_visible()
        row.click()
        timeline = page.locator("#timeline")
        expect(timeline).to_have_attribute("data-items", re.compile("^[1-9]"))
        first = timeline_items(page)
        assert phase(sim, session_id) != "ended"
        expect(timeline).not_to_have_attribute("data-items", str(first))
        assert timeline_items(page) > first
        assert phase(sim, session_id) != "ended"  # it grew while the call ran
        expect(row).to_have_attribute("data-phase", "ended", timeout=WAIT_MS * 2)
        expect(page.locator("#detail-outcome")).to_contain_text("NORMAL_CLEARING")
        expect(page.locator("#detail-outcome")).to_contain_text("KES")
        callback = page.locator("#timeline li.webhook", has_text="callback isActive=1").first
        callback.locator("summary").click()
        expect(callback.locator(".url")).to_have_text(f"{app_url}/voice?secret=***")
        expect(callback.locator("pre.xml")).to_contain_text('<GetDigits numDigits="1"')
        expect(page.locator("#timeline")).to_contain_text("GetDigits: no input")
        assert SECRET not in page.content()

        page.fill("#filter-number", "+254799")
        expect(row).to_be_hidden()
        page.fill("#filter-number", USER[-6:])
        expect(row).to_be_visible()
        page.select_option("#filter-direction", "Inbound")
        expect(row).to_be_hidden()
        page.select_option("#filter-direction", "")
        page.select_option("#filter-outcome", "answered")
        expect(row).to_be_visible()

        page.reload()  # the board survives a reload
        expect(page.locator(f'#calls li[data-session="{session_id}"]')).to_be_visible()


def go_online(page: Page, number: str = PERSON) -> None:
    page.fill("#phone-number", number)
    page.click("#phone-online")
    expect(page.locator("#phone-state")).to_have_attribute("data-state", "ready")


def test_the_softphone_answers_hears_the_prompt_presses_1_records_and_hangs_up(page: Page) -> None:
    # The simulator runs on virtual time: the person's call still runs in real time.
    with voice_app() as (app, app_url), atsim_serve(*wired(app_url), "--speed", "fast") as sim:
        open_dashboard(page, sim)
        go_online(page)
        session_id = place_call(sim, PERSON)
        expect(page.locator("#phone-state")).to_have_attribute("data-state", "ringing")
        page.click("#answer")
        expect(page.locator("#captions li.say").first).to_have_text(WELCOME)
        # The rendered speech plays in the audio element.
        expect(page.locator("#phone-audio")).to_have_attribute("data-playing", re.compile("^say:"))
        page.keyboard.press("1")  # the keyboard works like the keypad
        expect(page.locator("#recording")).to_be_visible()
        started = time.monotonic()
        time.sleep(SPOKEN)
        page.click('#keypad button[data-key="#"]')
        held = time.monotonic() - started
        expect(page.locator("#captions li.recorded")).to_be_visible()
        expect(page.locator("#captions li.say").last).to_contain_text("Thank you")
        page.click("#hangup")
        expect(page.locator("#captions li.ended")).to_contain_text("NORMAL_CLEARING")
        expect(page.locator("#phone-state")).to_have_attribute("data-state", "ready")

        callbacks = app.wait_for(lambda forms: any(f.get("isActive") == "0" for f in forms))
        ours = [form for form in callbacks if form["sessionId"] == session_id]
        assert [form["dtmfDigits"] for form in ours if "dtmfDigits" in form] == ["1"]
        url = next(form["recordingUrl"] for form in ours if "recordingUrl" in form)
        heard = beeps_in(httpx.get(url, timeout=10).content)
        # The recording is what the microphone heard for as long as the person talked: its
        # length is the time held (less the capture's start-up), with the fake microphone's
        # beep every half second all the way through.
        assert SPOKEN - 1.0 <= heard.seconds <= held + 1.0, heard
        assert len(heard.beeps) >= int(heard.seconds * 2) - 2, heard
        assert heard.beeps[0] < 1.0 and heard.beeps[-1] > heard.seconds - 1.0, heard
        # The final request of an answered call, as AT records it: no hangupCause (the
        # dashboard's caption above shows the outcome's NORMAL_CLEARING).
        assert ours[-1]["isActive"] == "0" and "hangupCause" not in ours[-1], ours[-1]


def test_the_softphone_calls_the_app(page: Page) -> None:
    with voice_app() as (app, app_url), atsim_serve(*wired(app_url)) as sim:
        open_dashboard(page, sim)
        go_online(page)
        expect(page.locator("#dial-to")).to_have_value(AT_NUMBER)
        page.click("#dial")
        expect(page.locator("#captions li.say").first).to_have_text(WELCOME)
        first = app.callbacks()[0]
        assert (first["direction"], first["callerNumber"]) == ("Inbound", PERSON)
        assert first["destinationNumber"] == AT_NUMBER
        page.click("#hangup")
        expect(page.locator("#phone-state")).to_have_attribute("data-state", "ready")
        row = page.locator(f'#calls li[data-session="{first["sessionId"]}"]')
        expect(row).to_have_attribute("data-phase", "ended")


def test_a_simulator_with_an_admin_token_asks_for_it(page: Page) -> None:
    token = "browser-admin-token-0123456"
    with atsim_serve(env={"ATSIM_ADMIN_TOKEN": token}) as sim:
        page.goto(sim.url)
        expect(page.locator("#token-banner")).to_be_visible()
        page.fill("#token-input", "not-the-token")
        page.click("#token-form button")
        expect(page.locator("#token-banner")).to_be_visible()
        page.fill("#token-input", token)
        page.click("#token-form button")
        expect(page.locator("#connection")).to_have_attribute("data-live", "true")
        expect(page.locator("#token-banner")).to_be_hidden()
        expect(page.locator("#numbers")).to_contain_text(AT_NUMBER)


def test_the_controls_do_what_the_admin_api_does(page: Page) -> None:
    with voice_app() as (_, app_url), atsim_serve(*wired(app_url), "--speed", "fast") as sim:
        admin = httpx.Client(base_url=f"{sim.url}/_simulator/", timeout=10)
        open_dashboard(page, sim)
        expect(page.locator("#numbers")).to_contain_text("secret=***")  # masked here too
        form = page.locator("#number-form")
        form.locator('[name="phoneNumber"]').fill("+254711082010")
        form.locator('[name="callbackUrl"]').fill(f"{app_url}/voice?secret=other")
        form.locator("button").click()
        expect(page.locator("#numbers")).to_contain_text("+254711082010")
        assert admin.get("numbers/+254711082010").json()["callbackUrl"].endswith("secret=other")

        page.click('.tabs button[data-tab="callees"]')
        form = page.locator("#callee-form")
        form.locator('[name="phoneNumber"]').fill(USER)
        form.locator('[name="answer"]').select_option("busy")
        form.locator('[name="digits"]').fill("1, 2#")
        form.locator('[name="hangupAfter"]').fill("30")
        form.locator("button").click()
        expect(page.locator("#callees")).to_contain_text(USER)
        script = admin.get(f"callees/{USER}").json()
        assert (script["answer"], script["digits"], script["hangupAfter"]) == (
            "busy",
            ["1", "2#"],
            30,
        )

        page.click('.tabs button[data-tab="faults"]')
        page.locator('#faults-form [name="duplicateProbability"]').fill("0.25")
        page.locator("#faults-form button").click()
        expect(page.locator("#controls-message")).to_have_text("event faults saved")
        assert admin.get("event-faults").json()["duplicateProbability"] == 0.25

        page.click('.tabs button[data-tab="accounts"]')
        form = page.locator("#account-form")
        form.locator('[name="username"]').fill("sandbox")
        form.locator('[name="balance"]').fill("123.45")
        form.locator("button").click()
        expect(page.locator("#accounts")).to_contain_text("KES 123.45")
        form.locator('[name="username"]').fill("bad user")
        form.locator("button").click()
        expect(page.locator("#controls-message")).to_contain_text("422")  # the rule, shown

        page.click('.tabs button[data-tab="more"]')
        form = page.locator("#inbound-form")
        form.locator('[name="from"]').fill("+254700123456")
        form.locator('[name="to"]').fill(AT_NUMBER)
        form.locator("button").click()
        expect(page.locator("#calls li.call")).to_have_count(1)
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#reset")
        expect(page.locator("#calls li.call")).to_have_count(0)
        assert admin.get("callees").json()["callees"] == []
        admin.close()
