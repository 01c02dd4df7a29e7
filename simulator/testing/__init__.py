"""Aids for test suites: the pytest plugin and its ``at_simulator`` handle, the official SDK
pointed at the simulator (and kept off the real AT), a loopback server for an app under test,
and schemathesis hooks for the simulator's contract."""
