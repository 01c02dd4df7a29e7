"""The dashboard ``atsim serve`` shows at its root URL: the live call board, the softphone and
the controls (a page of plain HTML, CSS and JavaScript shipped in :mod:`.static`), and the
endpoints behind it: the live feed and the dev phones' lines, under ``/_simulator/``."""

from __future__ import annotations
