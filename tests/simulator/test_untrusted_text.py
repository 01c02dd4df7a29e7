"""Text an app sent, as the simulator's commands print it: escaped, never a crash."""

from __future__ import annotations

import io

from at_voice_kit.simulator.untrusted_text import (
    never_fail_to_print,
    printable,
    printable_lines,
    real_text,
)


def test_what_a_terminal_would_obey_is_shown_escaped() -> None:
    hostile = "Karibu caf\u00e9 \u260e \x1b[2J\x07\r\nforged \u202e \x9b \ud800\t"
    assert printable(hostile) == (
        "Karibu caf\u00e9 \u260e \\x1b[2J\\x07\\r\\nforged \\u202e \\x9b \\ud800\\t"
    )
    assert printable("plain text") == "plain text"
    assert printable_lines("one\x1b\ntwo") == "one\\x1b\ntwo"


def test_lone_surrogates_become_replacement_characters_and_pairs_join() -> None:
    assert real_text("a\ud800b") == "a\ufffdb"
    assert real_text("\ud83d\ude00") == "\U0001f600"
    assert real_text("caf\u00e9") == "caf\u00e9"


def test_a_stream_that_cannot_encode_a_character_escapes_it() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    never_fail_to_print(stream)
    stream.write("caf\u00e9 \ud800")
    stream.flush()
    assert raw.getvalue() == b"caf\\xe9 \\ud800"
