"""The exact request behind a finding, as a ``curl`` command to paste into a shell.

The body is the exact bytes verify sent (``--data-raw``, so curl changes nothing), with AT's
content type. Values of headers given with ``--header`` are redacted: they are usually
credentials, and reports end up in CI logs.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from at_voice_kit.simulator.verify.exchanges import FORM_CONTENT_TYPE, SentRequest

REDACTED = "<redacted>"


def curl_command(
    request: SentRequest, *, timeout: float, headers: Sequence[tuple[str, str]] = ()
) -> str:
    """A multi-line ``curl`` invocation that sends ``request`` as verify did."""
    parts = [
        f"curl -sS -i --max-time {timeout:g} -X POST {shlex.quote(request.url)}",
        f"-H {shlex.quote('Content-Type: ' + FORM_CONTENT_TYPE)}",
        *(f"-H {shlex.quote(f'{name}: {REDACTED}')}" for name, _ in headers),
        f"--data-raw {shlex.quote(request.body().decode('ascii'))}",
    ]
    return " \\\n  ".join(parts)
