"""Suite-wide fixtures: loopback-only networking and a real PostgreSQL server."""

from __future__ import annotations

pytest_plugins = ["tests.loopback_guard", "tests.postgres_server"]
