"""Reading the contracts' JSON Schema patterns in Python with the meaning they have in the
schema, so that a pattern is written once, in the contract file, and enforced from there."""

from __future__ import annotations

import re


def schema_pattern(pattern: str) -> re.Pattern[str]:
    r"""Compile a JSON Schema ``pattern`` so that Python matches what the schema means.

    JSON Schema patterns are ECMA-262 regular expressions, where ``$`` matches only at the
    very end of the value; Python's ``$`` also matches before a final newline, so
    ``^[!-~]{1,128}$`` would accept ``"ATVId_x\n"``. Each ``$`` outside a character class
    becomes ``\Z``. (The contract's patterns use no other construct the two read apart.)
    """
    translated: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            translated.append(pattern[index : index + 2])
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            char = r"\Z"
        translated.append(char)
        index += 1
    return re.compile("".join(translated))
