"""The dev phone: a person on a simulated call, in a browser or a terminal.

:mod:`.lines` holds the numbers people hold and puts calls through to them (the engine's
live lines), :mod:`.speech` renders ``Say`` to speech offline with espeak-ng, and
:mod:`.recorded_audio` checks the recordings their microphones send.
"""

from __future__ import annotations
