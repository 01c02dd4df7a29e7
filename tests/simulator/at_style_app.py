"""A voice app of our own that answers the way AT's own example app does.

Written from the facts of AT's published example (africastalking-python, ``example/webApp.py``;
at-voice-api.md section 2), not from its code: one URL for the whole flow, routed by the
digits AT posts; answers with no XML declaration and spaces between the elements; served as
``text/html`` (Flask's default for a string); the caller first types an account number ended
by ``#``, then a menu (1 and ``#``: the balance, 0 and ``#``: goodbye), and each ending speaks,
then ``Reject``s. The final notification gets the same kind of answer as any request (the
example does not look at ``isActive``). It works on AT, so it must pass the simulator and
``atsim verify`` with no error (warnings: Reject after Say, and ``text/html``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

PATH = "/voice"
ACCOUNT_PROMPT = (
    '<Response> <GetDigits timeout="30" finishOnKey="#">'
    '<Say voice="man" playBeep="false">Please type your account number, then the hash key</Say>'
    " </GetDigits> </Response>"
)
MENU = (
    '<Response> <GetDigits timeout="30" finishOnKey="#"> <Say voice="man" playBeep="false">'
    "For your balance press 1 then hash; to end the call press 0 then hash</Say>"
    " </GetDigits> </Response>"
)
BALANCE = (
    '<Response> <Say voice="man" playBeep="false">Your balance is 250 shillings</Say>'
    " <Reject/> </Response>"
)
GOODBYE = (
    '<Response> <Say voice="man" playBeep="false">Thank you, goodbye</Say> <Reject/> </Response>'
)


class AtStyleApp:
    """The WSGI app; ``received`` keeps every form it was posted."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH:
            start_response("404 Not Found", [("Content-Type", "text/html; charset=utf-8")])
            return [b"Not Found"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = dict(parse_qsl(environ["wsgi.input"].read(length).decode("utf-8")))
        self.received.append(form)
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [answer(form.get("dtmfDigits")).encode("utf-8")]


def answer(digits: str | None) -> str:
    """The answer to a request carrying ``digits`` (None: no key was pressed)."""
    if digits == "1":
        return BALANCE
    if digits == "0":
        return GOODBYE
    if digits and len(digits) >= 4:  # an account number: any will do
        return MENU
    return ACCOUNT_PROMPT
