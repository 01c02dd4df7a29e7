"""The suite's PostgreSQL server is real: it answers SQL over loopback TCP."""

from __future__ import annotations

import sqlalchemy as sa


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
