"""The suite's PostgreSQL server is real: it answers SQL over loopback TCP."""

from __future__ import annotations

import socket

import pytest
import sqlalchemy as sa

from tests.postgres_server import throwaway_postgres


def test_postgres_server_answers_sql(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            version = conn.execute(sa.text("select version()")).scalar_one()
            address = conn.execute(sa.text("select inet_server_addr()::text")).scalar_one()
    finally:
        engine.dispose()
    assert version.startswith("PostgreSQL")
    assert address.startswith("127.0.0.1")


def test_a_throwaway_server_is_gone_once_destroyed() -> None:
    """destroy() stops the server, not only its directory (pg_ctl must run as postgres)."""
    with throwaway_postgres() as server:
        socket.create_connection(("127.0.0.1", server.port), timeout=5).close()  # it listens
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=5).close()
