"""A real, throwaway PostgreSQL server for the tests, on loopback.

``AVK_TEST_POSTGRES_URL`` (a ``postgresql+psycopg://`` URL to a server whose user may create
databases) is used when set. Otherwise the fixture runs ``initdb`` and ``pg_ctl`` from the
Debian ``postgresql`` package into a temporary directory, on a free loopback port, and stops
it at the end of the session. As root it runs the server as the ``postgres`` user, since
PostgreSQL refuses to run as root. Without PostgreSQL the tests fail: they are not skipped.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ENV_URL = "AVK_TEST_POSTGRES_URL"


def _pg_bin(name: str) -> str:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    found = shutil.which(name) or (candidates[0] if candidates else None)
    if found is None:
        pytest.fail(
            f"PostgreSQL's {name} was not found: install the Debian package 'postgresql' "
            f"(see .ci/run) or set {ENV_URL} to a server URL",
            pytrace=False,
        )
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _as_server_user(argv: list[str]) -> list[str]:
    # PostgreSQL's tools refuse to run as root (pg_ctl exits 1 saying so).
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _run_as_server_user(argv: list[str]) -> None:
    subprocess.run(_as_server_user(argv), check=True, capture_output=True, timeout=120)


class ThrowawayPostgres:
    """A PostgreSQL server of its own, in a temporary directory, on a free loopback port.

    It can be stopped and started again on the same port and data (to test what clients do
    while the database is down), and :meth:`destroy` removes everything.
    """

    def __init__(self) -> None:
        # Not tmp_path_factory: its directories are private to root, and the server runs as
        # postgres.
        self.base = Path(tempfile.mkdtemp(prefix="avk-postgres-"))
        self.data = self.base / "data"
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
        self.port = _free_port()
        _run_as_server_user(
            [_pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"]
        )

    @property
    def url(self) -> str:
        """The server's URL, without a database name."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.base} -c max_connections=200"
        )
        log = self.base / "server.log"
        _run_as_server_user(
            [_pg_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(log), "-w", "start"]
        )

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server (``immediate``: like a crash; ``fast``: clean shutdown)."""
        _run_as_server_user([_pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])

    def destroy(self) -> None:
        """Stop the server if it runs, and remove its directory."""
        status = subprocess.run(
            _as_server_user([_pg_bin("pg_ctl"), "-D", str(self.data), "status"]),
            capture_output=True,
            timeout=30,
        )
        if status.returncode == 0:
            self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


@contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    """A started :class:`ThrowawayPostgres`, destroyed when the block ends."""
    server = ThrowawayPostgres()
    try:
        server.start()
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """URL (without database name) of a running PostgreSQL server on 127.0.0.1."""
    configured = os.environ.get(ENV_URL)
    if configured:
        yield configured.rsplit("/", 1)[0]
        return
    with throwaway_postgres() as server:
        yield server.url


def create_database(server_url: str) -> str:
    """Create a fresh, uniquely named database on the server and return its URL."""
    import psycopg

    name = "avk_" + uuid.uuid4().hex[:16]
    plain = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server_url}/{name}"


@pytest.fixture
def postgres_url(postgres_server_url: str) -> str:
    """URL of a new, empty PostgreSQL database for one test."""
    return create_database(postgres_server_url)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The test runs once per database the store supports: a new SQLite file, then a new
    PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'voice.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url
