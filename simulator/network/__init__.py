"""The simulated network: the REST backend's calls placed by the call engine.

See :mod:`at_voice_kit.simulator.network.network`. ``SimulatedNetwork.attach(backend)`` makes a
backend's queued calls (and simulated inbound calls) really happen.
"""

from __future__ import annotations

from at_voice_kit.simulator.network.network import SimulatedNetwork
from at_voice_kit.simulator.network.platform_ports import leg_session_id

__all__ = ["SimulatedNetwork", "leg_session_id"]
