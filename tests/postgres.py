"""A throwaway PostgreSQL server on loopback, and a fresh database per test when asked.

`SLIPWAY_TEST_DATABASE=postgresql` runs the suite on PostgreSQL instead of
SQLite (.ci/run does both): every app and every stack gets a database of its own.
"""

import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest

from tests.stack import free_port, wait_for_port

ON_POSTGRES = os.environ.get("SLIPWAY_TEST_DATABASE") == "postgresql"


def _pg_bin(name: str) -> str:
    from tests.conftest import require_tool

    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / name).exists():
            return str(folder / name)
    return require_tool(name)


class PostgresServer:
    def __init__(self, base: Path):
        self.base = base
        self.port = free_port()
        self.data = base / "data"

    def _as_postgres(self, *argv: str) -> None:
        # initdb and postgres refuse to run as root; run them as the postgres user then.
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *argv], check=True, capture_output=True, timeout=120)

    def start(self) -> "PostgresServer":
        self.base.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres")
        self._as_postgres(_pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "slipway")
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            _pg_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l",
            str(self.base / "postgres.log"), "-w", "start",
        )  # fmt: skip
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        self._as_postgres(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.base, ignore_errors=True)

    def new_database(self) -> str:
        """Create an empty database; return its SQLAlchemy URL."""
        name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(f"postgresql://slipway@127.0.0.1:{self.port}/postgres",
                             autocommit=True) as conn:  # fmt: skip
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://slipway@127.0.0.1:{self.port}/{name}"


def drop_database(url: str) -> None:
    """Make a database vanish under a running app, connections and all."""
    server, name = url.rsplit("/", 1)
    admin = server.replace("postgresql+psycopg", "postgresql") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


_server: PostgresServer | None = None


def postgres_database() -> str:
    """A new database on the session's server, started on first use."""
    global _server
    if _server is None:
        # Its own directory: the postgres user must be able to reach it.
        _server = PostgresServer(Path(tempfile.mkdtemp(prefix="slipway-postgres-"))).start()
    return _server.new_database()


def stop_server() -> None:
    global _server
    if _server is not None:
        _server.stop()
        _server = None


@pytest.fixture(scope="session", autouse=True)
def _postgres_lifetime():
    yield
    stop_server()
