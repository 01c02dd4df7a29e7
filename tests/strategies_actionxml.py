"""Hypothesis strategies for ActionXML, shared by every test suite.

``responses()`` draws arbitrary valid typed :class:`~at_voice_kit.contracts.actionxml.Response`
values (rules on order included: Reject alone, terminal actions last); ``documents()`` gives their
rendered text; ``grammar_shaped_documents()`` gives near-miss documents, valid or not. The parts
(``phone_numbers()``, ``http_urls()``, ``actions()``, ...) are exported for tests that need one kind
of value. Text and URLs deliberately include the characters that need escaping (``& < > " ' \\r
\\t``) and non-ASCII letters.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, tostring

import phonenumbers
from hypothesis import strategies as st

from at_voice_kit.contracts.actionxml import (
    Action,
    Conference,
    Dequeue,
    Dial,
    Enqueue,
    GetDigits,
    Play,
    Prompt,
    Record,
    Redirect,
    Reject,
    Response,
    Say,
    Voice,
    render,
)

MAX_WHOLE_NUMBER = 2_147_483_647

_EXAMPLE_NUMBERS = sorted(
    {
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        for region in phonenumbers.SUPPORTED_REGIONS
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)
        if (number := phonenumbers.example_number_for_type(region, kind)) is not None
    }
)

# Any character XML 1.0 can carry (the surrogate block excluded by Hypothesis already).
_XML_CHARACTERS = st.characters(
    exclude_categories=("Cs",),
    exclude_characters="\ufffe\uffff",
    min_codepoint=0x09,
).filter(lambda c: c in "\t\n\r" or c >= " ")
_TRICKY = st.sampled_from(["&", "<", ">", '"', "'", "\r", "\r\n", "\t", "]]>", "&amp;", "é", "😀"])


def xml_text(*, min_size: int = 0, max_size: int = 40) -> st.SearchStrategy[str]:
    """Strings XML can carry, often with characters that need escaping."""
    pieces = st.one_of(_TRICKY, st.text(_XML_CHARACTERS, max_size=8))
    joined = st.lists(pieces, max_size=8).map("".join)
    return joined.filter(lambda s: min_size <= len(s) <= max_size)


def spoken_texts() -> st.SearchStrategy[str]:
    """``Say`` text: anything holding more than whitespace, kept verbatim."""
    return xml_text(min_size=1).filter(lambda s: s.strip(" \t\r\n") != "")


def http_urls() -> st.SearchStrategy[str]:
    """Absolute http(s) URLs with a host, paths and queries including ``&``, ``<``, ``"``."""
    host = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,14}[a-z0-9])?(\.[a-z]{2,6}){0,2}", fullmatch=True)
    port = st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}"))
    rest = st.text(
        st.characters(exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")).filter(
            lambda c: c not in "\ufffe\uffff"
        ),
        max_size=20,
    )
    tail = st.one_of(st.just(""), st.tuples(st.sampled_from("/?#"), rest).map("".join))
    return st.builds(
        lambda scheme, h, p, t: f"{scheme}://{h}{p}{t}",
        st.sampled_from(["http", "https"]),
        host,
        port,
        tail,
    )


def phone_numbers() -> st.SearchStrategy[str]:
    """Valid international numbers (E.164, ``+`` included)."""
    kenyan = st.from_regex(r"\+2547[0-9]{8}", fullmatch=True)
    return st.one_of(st.sampled_from(_EXAMPLE_NUMBERS), kenyan)


def sip_addresses() -> st.SearchStrategy[str]:
    """AT SIP addresses such as ``agent.1@ke.sip.africastalking.com``."""
    return st.from_regex(
        r"[A-Za-z0-9._+-]{1,12}@(ke|ug|ng|tz|rw)\.sip\.africastalking\.com", fullmatch=True
    )


def _optional(strategy: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.one_of(st.none(), strategy)


_WHOLE = st.integers(0, MAX_WHOLE_NUMBER)
_KEYS = st.sampled_from("0123456789*#")
_BOOLEANS = st.booleans()


def says() -> st.SearchStrategy[Say]:
    """Any valid ``Say``."""
    return st.builds(Say, spoken_texts(), _optional(st.sampled_from(Voice)), _optional(_BOOLEANS))


def plays() -> st.SearchStrategy[Play]:
    """Any valid ``Play``."""
    return st.builds(Play, http_urls())


def prompts() -> st.SearchStrategy[Prompt]:
    """A ``Say`` or ``Play`` prompt."""
    return st.one_of(says(), plays())


def get_digits() -> st.SearchStrategy[GetDigits]:
    """Any valid ``GetDigits``."""
    return st.builds(
        GetDigits,
        prompt=_optional(prompts()),
        num_digits=_optional(_WHOLE),
        timeout=_optional(_WHOLE),
        finish_on_key=_optional(_KEYS),
        callback_url=_optional(http_urls()),
    )


def dials() -> st.SearchStrategy[Dial]:
    """Any valid ``Dial``: one to four numbers or SIP addresses."""
    targets = st.lists(st.one_of(phone_numbers(), sip_addresses()), min_size=1, max_size=4)
    return st.builds(
        Dial,
        phone_numbers=targets.map(tuple),
        record=_optional(_BOOLEANS),
        sequential=_optional(_BOOLEANS),
        caller_id=_optional(phone_numbers()),
        ring_back_tone=_optional(http_urls()),
        max_duration=_optional(_WHOLE),
    )


def partial_records() -> st.SearchStrategy[Record]:
    """Any valid partial ``Record`` (at least one attribute or a prompt)."""
    return st.builds(
        Record,
        prompt=_optional(prompts()),
        finish_on_key=_optional(_KEYS),
        max_length=_optional(_WHOLE),
        timeout=_optional(_WHOLE),
        trim_silence=_optional(_BOOLEANS),
        play_beep=_optional(_BOOLEANS),
        callback_url=_optional(http_urls()),
    ).filter(lambda record: record != Record())


def enqueues() -> st.SearchStrategy[Enqueue]:
    """Any valid ``Enqueue``."""
    return st.builds(Enqueue, _optional(http_urls()), _optional(xml_text(min_size=1)))


def dequeues() -> st.SearchStrategy[Dequeue]:
    """Any valid ``Dequeue``."""
    return st.builds(Dequeue, phone_numbers(), _optional(xml_text(min_size=1)))


def redirects() -> st.SearchStrategy[Redirect]:
    """Any valid ``Redirect``."""
    return st.builds(Redirect, http_urls())


def continuing_actions() -> st.SearchStrategy[Action]:
    """Actions that may be followed by others (everything but Redirect, Reject, ``<Record/>``)."""
    return st.one_of(
        says(),
        plays(),
        get_digits(),
        dials(),
        partial_records(),
        enqueues(),
        dequeues(),
        st.just(Conference()),
    )


def terminal_actions() -> st.SearchStrategy[Action]:
    """Actions after which nothing runs: ``Redirect`` and the terminal ``<Record/>``."""
    return st.one_of(redirects(), st.just(Record.until_hangup()))


def actions() -> st.SearchStrategy[Action]:
    """Any single valid action."""
    return st.one_of(continuing_actions(), terminal_actions(), st.just(Reject()))


def responses(*, max_actions: int = 6) -> st.SearchStrategy[Response]:
    """Valid typed responses: Reject alone, or actions with at most one terminal, last."""
    ordered = st.builds(
        lambda body, last: Response((*body, *last)),
        st.lists(continuing_actions(), max_size=max_actions),
        st.one_of(st.just(()), terminal_actions().map(lambda action: (action,))),
    )
    return st.one_of(ordered, st.just(Response((Reject(),))))


def documents(*, max_actions: int = 6) -> st.SearchStrategy[str]:
    """Rendered valid documents."""
    return responses(max_actions=max_actions).map(render)


# --- grammar-shaped documents: mostly near-valid, often wrong ------------------------------

_ATTRIBUTES_OF: dict[str, list[str]] = {
    "Say": ["voice", "playBeep"],
    "Play": ["url"],
    "GetDigits": ["numDigits", "timeout", "finishOnKey", "callbackUrl", "callBackUrl"],
    "Dial": [
        "phoneNumbers",
        "record",
        "sequential",
        "callerId",
        "ringBackTone",
        "ringbackTone",
        "maxDuration",
    ],
    "Record": [
        "finishOnKey",
        "maxLength",
        "timeout",
        "trimSilence",
        "playBeep",
        "callbackUrl",
        "callBackUrl",
    ],
    "Enqueue": ["holdMusic", "name"],
    "Dequeue": ["phoneNumber", "name"],
    "Redirect": [],
    "Reject": [],
    "Conference": [],
    "Response": [],
}
_REQUIRED_OF = {"Play": ["url"], "Dial": ["phoneNumbers"], "Dequeue": ["phoneNumber"]}
_NUMBERS = ["0", "1", "30", "2147483647", "-1", "1.5", "ten", " 4", "2147483648", ""]
_BOOLEAN_WORDS = ["true", "false", "True", "yes", "1", ""]
_URLS = ["https://a.example.com/x?a=1&b=2", "http://h:8080/", "ftp://a/b", "/rel", "http://", ""]
_VALUES_OF: dict[str, list[str]] = {
    "voice": ["man", "woman", "Man", "robot", ""],
    "playBeep": _BOOLEAN_WORDS,
    "record": _BOOLEAN_WORDS,
    "sequential": _BOOLEAN_WORDS,
    "trimSilence": _BOOLEAN_WORDS,
    "url": _URLS,
    "callbackUrl": _URLS,
    "callBackUrl": _URLS,
    "ringBackTone": _URLS,
    "ringbackTone": _URLS,
    "holdMusic": _URLS,
    "numDigits": _NUMBERS,
    "timeout": _NUMBERS,
    "maxLength": _NUMBERS,
    "maxDuration": _NUMBERS,
    "finishOnKey": ["#", "*", "5", "##", "a", ""],
    "phoneNumbers": [
        "+254711082369",
        "+254711082369, agent@ke.sip.africastalking.com",
        "+2547110823",
        "0711082369",
        "bob@example.com",
        "+254711082369,,",
        "",
    ],
    "callerId": ["+254711082000", "+2547110823", "254711082000", ""],
    "phoneNumber": ["+254711082000", "+999123456789", "+12", ""],
    "name": ["support", " ", ""],
}
_STRAY_ATTRIBUTES = ["foo", "Voice", "numdigits", "{http://www.w3.org/XML/1998/namespace}lang"]
_ELEMENT_NAMES = [name for name in _ATTRIBUTES_OF if name != "Response"]
_STRAY_ELEMENTS = ["Response", "getDigits", "Hangup", "SAY"]
_TEXTS = ["Hello", "  ", "", "https://a.example.com/next", " https://a.example.com/n ", "x y"]


@st.composite
def _grammar_shaped_element(draw: st.DrawFn, depth: int) -> Element:
    mostly_right = draw(st.integers(0, 9)) < 8
    if depth == 0:
        tag = "Response" if mostly_right else draw(st.sampled_from(["response", "Say"]))
    elif mostly_right:
        tag = draw(st.sampled_from(_ELEMENT_NAMES))
    else:
        tag = draw(st.sampled_from(_STRAY_ELEMENTS))
    element = Element(tag)
    own = _ATTRIBUTES_OF.get(tag, [])
    names = list(_REQUIRED_OF.get(tag, [])) if draw(st.integers(0, 9)) < 8 else []
    names += draw(st.lists(st.sampled_from(own), max_size=3, unique=True)) if own else []
    if draw(st.integers(0, 9)) == 0:
        names.append(draw(st.sampled_from(_STRAY_ATTRIBUTES)))
    for name in names:
        element.set(name, draw(st.sampled_from(_VALUES_OF.get(name, ["x"]))))
    if tag in ("Say", "Redirect") or draw(st.integers(0, 9)) == 0:
        element.text = draw(st.sampled_from(_TEXTS))
    if depth < 3:
        wanted = 5 if depth == 0 else (1 if tag in ("GetDigits", "Record") else 0)
        extra = draw(st.integers(0, 9)) == 0
        for child in draw(st.lists(_grammar_shaped_element(depth + 1), max_size=wanted + extra)):
            element.append(child)
    return element


def grammar_shaped_documents() -> st.SearchStrategy[str]:
    """Documents over the grammar's vocabulary: often valid, often wrong in a few places.

    Good for checking that two judges (the parser and the XSD, the simulator and the
    parser) agree, and that nothing raises on near-miss input.
    """
    return _grammar_shaped_element(0).map(lambda root: tostring(root, encoding="unicode"))
