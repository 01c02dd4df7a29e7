"""The simulated platform's state and logic, without HTTP (moto's ``models.py``).

:class:`~at_voice_kit.simulator.backend.voice.VoiceBackend` composes the registries (accounts,
numbers, callees, calls, queues) and the journal; its module docstring lists the seams the call
engine plugs into.
"""

from __future__ import annotations
