"""A real PostgreSQL server for the tests, from Debian's packages (scripts/test-stack.sh
installs them): a new cluster in a temporary folder, listening on a free loopback port,
stopped when the tests end. Each test gets a schema of its own in one database.

PostgreSQL refuses to run as root: as root, the server runs as the ``postgres`` user that
Debian's package made.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

from serving import free_port

DATABASE = "pdfocr_test"


def _binaries() -> Path:
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda path: int(path.parent.parent.name)
    )
    if not found:
        raise RuntimeError("no PostgreSQL server: run scripts/test-stack.sh (it installs Debian's)")
    return found[-1].parent


class PostgresServer:
    def __init__(self) -> None:
        self.bin = _binaries()
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="pdfocr-postgres-"))
        self._user: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self._user = ["runuser", "-u", "postgres", "--"]
        self._schemas = itertools.count(1)
        data, log = self.folder / "data", self.folder / "server.log"
        self._run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "--encoding=UTF8",
                  "--locale=C.UTF-8", "--no-sync")  # fmt: skip
        self._run(
            "pg_ctl", "-D", str(data), "-l", str(log), "-w", "start", "-o",
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off",
        )  # fmt: skip
        self.psql(f"CREATE DATABASE {DATABASE}", database="postgres")
        # Where every test's schema finds the trigram operators.
        self.psql("CREATE EXTENSION pg_trgm SCHEMA public")

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [*self._user, str(self.bin / program), *args], check=True, capture_output=True, text=True
        )

    def psql(self, sql: str, database: str = DATABASE) -> str:
        done = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
             "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        return done.stdout

    def url(self, schema: str) -> str:
        options = quote(f"-c search_path={schema},public")
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE}?options={options}"

    def new_schema(self) -> str:
        """The URL of an empty index: a new schema."""
        schema = f"test_{next(self._schemas)}"
        self.psql(f"CREATE SCHEMA {schema}")
        return self.url(schema)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
