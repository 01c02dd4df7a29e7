"""pytest plugin (entry point ``pytest11``): fixtures that run the AT Voice simulator.

Filled in by the simulator issue; registered now so the entry point always resolves.
"""

from __future__ import annotations
