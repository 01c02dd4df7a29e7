"""The client of a running simulator, over HTTP, and the readable timeline of its calls: what
``atsim call``, ``atsim dial`` and ``atsim demo`` use against any ``atsim serve``."""
