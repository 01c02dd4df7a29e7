"""Serving the simulator: the ASGI app factory that wires AT's REST surface and the admin API
to one backend, and the uvicorn servers that run it (``atsim serve``, or a background thread
for the pytest fixture)."""
