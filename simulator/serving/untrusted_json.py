"""Reading JSON request bodies from anyone who can reach the port, without a 500.

``json.loads`` accepts two things the simulator cannot live with: nesting deep enough to
exhaust the interpreter's recursion limit (``RecursionError``, not ``ValueError``), and
``\\ud800``-style escapes that decode to lone surrogates, which are not text: they cannot be
encoded as UTF-8, so a value holding one breaks the first answer, journal entry or webhook
that carries it. Both surfaces (AT's REST API and the admin API) read bodies through
:func:`load_untrusted_json`, which turns both into a ``ValueError`` like any other bad JSON.
"""

from __future__ import annotations

import json


def load_untrusted_json(text: str) -> object:
    """Parse ``text`` as JSON; raise ``ValueError`` for anything that is not a JSON document
    of real text (too deeply nested, or holding a lone surrogate in a key or a string)."""
    try:
        document = json.loads(text)
        # Writing it back out as UTF-8 is the one check that finds a surrogate anywhere.
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except RecursionError:
        raise ValueError("the JSON document is nested too deeply") from None
    except UnicodeEncodeError:
        raise ValueError(
            "the JSON document holds a lone surrogate escape (such as \\ud800), not text"
        ) from None
    return document
