"""The screenshots of ``docs/dev-phone.md``: ``python -m tests.simulator.dashboard.screenshots``.

Starts the test app and ``atsim serve --speed fast``, places a few calls through the official
SDK (a caller leaving a message, a busy phone, one that does not answer, an inbound caller,
an app answering broken ActionXML), then takes one in the dev phone: answered, the prompt
heard, 1 pressed, recording. Writes ``docs/dashboard-board.png`` (the board, a call open,
an answer reviewed), ``docs/dashboard-problems.png`` (a broken answer, its problems marked)
and ``docs/dev-phone-call.png`` (the phone in the middle of the call).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import africastalking
import httpx
from playwright.sync_api import expect

from at_voice_kit.simulator.testing.sdk import sdk_pointed_at
from tests.simulator.atsim_process import atsim_serve
from tests.simulator.dashboard.browser import chromium
from tests.simulator.dashboard.voice_app import voice_app, wired

DOCS = Path(__file__).resolve().parents[3] / "docs"
AT_NUMBER = "+254711082000"
BROKEN_NUMBER = "+254711082009"
BROKEN_CALLEE = "+254733123456"
PERSON = "+254722000100"
CALLEES = {
    "+254711082369": {"answer": "answered", "digits": ["1", "2"], "speechSeconds": 6},
    "+256772123456": {"answer": "busy"},
    "+255754123456": {"answer": "no-answer"},
}


def set_up(http: httpx.Client, app_url: str) -> None:
    for number, script in CALLEES.items():
        http.put(f"/_simulator/callees/{number}", json=script).raise_for_status()
    http.put(f"/_simulator/callees/{BROKEN_CALLEE}", json={"answer": "answered"}).raise_for_status()
    broken = {"callbackUrl": f"{app_url}/broken", "eventsUrl": f"{app_url}/events"}
    http.put(f"/_simulator/numbers/{BROKEN_NUMBER}", json=broken).raise_for_status()


def place_calls(url: str, http: httpx.Client) -> str:
    with sdk_pointed_at(url, "sandbox", "atsim-sandbox-key"):
        first = africastalking.Voice.call(AT_NUMBER, list(CALLEES))
        africastalking.Voice.call(BROKEN_NUMBER, [BROKEN_CALLEE])
    http.post("/_simulator/calls", json={"from": "+254700123456", "to": AT_NUMBER})
    return str(first["entries"][0]["sessionId"])


def main() -> int:
    DOCS.mkdir(exist_ok=True)
    with voice_app() as (_, app_url), atsim_serve(*wired(app_url), "--speed", "fast") as sim, \
            httpx.Client(base_url=sim.url, timeout=10) as http, chromium() as browser:  # fmt: skip
        set_up(http, app_url)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(sim.url)
        expect(page.locator("#connection")).to_have_attribute("data-live", "true")
        message_call = place_calls(sim.url, http)
        expect(page.locator("#calls li.call")).to_have_count(5)
        page.locator(f'#calls li[data-session="{message_call}"]').click()
        expect(page.locator("#detail-outcome")).to_contain_text("NORMAL_CLEARING")
        page.locator("#timeline li.webhook", has_text="dtmfDigits=1").locator("summary").click()
        time.sleep(0.5)
        page.screenshot(path=str(DOCS / "dashboard-board.png"), full_page=True)
        page.locator("#calls li.call", has_text=BROKEN_NUMBER).click()
        expect(page.locator("#detail-outcome")).to_contain_text("app failure")
        page.locator("#timeline li.webhook.bad").first.locator("summary").click()
        time.sleep(0.5)
        page.locator("#detail").screenshot(path=str(DOCS / "dashboard-problems.png"))

        page.fill("#phone-number", PERSON)
        page.click("#phone-online")
        expect(page.locator("#phone-state")).to_have_attribute("data-state", "ready")
        with sdk_pointed_at(sim.url, "sandbox", "atsim-sandbox-key"):
            live = africastalking.Voice.call(AT_NUMBER, [PERSON])["entries"][0]["sessionId"]
        expect(page.locator("#phone-state")).to_have_attribute("data-state", "ringing")
        page.click("#answer")
        page.locator(f'#calls li[data-session="{live}"]').click()
        expect(page.locator("#captions li.say")).to_have_count(1)
        time.sleep(1.0)
        page.click('#keypad button[data-key="1"]')
        expect(page.locator("#recording")).to_be_visible()
        time.sleep(2.0)
        page.screenshot(path=str(DOCS / "dev-phone-call.png"), full_page=True)
        page.click("#hangup")
        expect(page.locator("#phone-state")).to_have_attribute("data-state", "ready")
    print(f"wrote the screenshots in {DOCS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
