"""Fixtures for the API client's integration tests: a real Ion sandbox, logins through it,
a throwaway PostgreSQL cluster, and the test site run as separate server processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apitest import HERE, PG_BIN, Server, as_postgres, free_port, site_env, skip_or_fail

from ion_oauth.testing import IonSandbox

# -- the sandbox and logins through it -----------------------------------------------


@pytest.fixture(scope="session")
def site_ports() -> tuple[int, int]:
    """Ports for server A and server B of the two-server login test."""
    return free_port(), free_port()


@pytest.fixture(scope="session")
def ion(site_ports: tuple[int, int]) -> Iterator[IonSandbox]:
    """One sandbox for these tests, which knows the test client's and both servers' URIs."""
    uris = ["http://testserver/complete/ion/"]
    uris += [f"http://127.0.0.1:{port}/complete/ion/" for port in site_ports]
    with IonSandbox(redirect_uris=uris) as sandbox:
        yield sandbox


@pytest.fixture
def ion_site(ion: IonSandbox, settings: Any) -> IonSandbox:
    """The unit-test site with a live-API page, pointed at the sandbox; counters at zero."""
    settings.ROOT_URLCONF = "ion_api_site.urls"
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "ion_oauth.middleware.IonLoginRequiredMiddleware"]
    settings.SOCIAL_AUTH_ION_BASE_URL = ion.url
    settings.SOCIAL_AUTH_ION_KEY = ion.client_id
    settings.SOCIAL_AUTH_ION_SECRET = ion.client_secret
    ion.reset_stats()
    return ion


# -- PostgreSQL ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres() -> Iterator[dict[str, str]]:
    """``ION_TEST_PG_*`` variables of a PostgreSQL server: the one they already name, or a
    throwaway cluster on a free loopback port, removed at the end."""
    if os.environ.get("ION_TEST_PG_HOST"):
        yield {k: v for k, v in os.environ.items() if k.startswith("ION_TEST_PG_")}
        return
    if not (PG_BIN / "initdb").exists():
        skip_or_fail(f"PostgreSQL is not installed ({PG_BIN}/initdb; set ION_TEST_PG_BIN)")
    root = Path(tempfile.mkdtemp(prefix="ion-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data = root / "data"
    port = free_port()
    as_postgres(
        [
            str(PG_BIN / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        ]
    )
    options = f"-h 127.0.0.1 -p {port} -k {root} -F -c max_connections=100"
    as_postgres(
        [
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(root / "log"),
            "-w",
            "start",
        ]
    )
    try:
        yield {
            "ION_TEST_PG_HOST": "127.0.0.1",
            "ION_TEST_PG_PORT": str(port),
            "ION_TEST_PG_USER": "postgres",
        }
    finally:
        as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_site(ion: IonSandbox, postgres: dict[str, str]) -> Iterator[dict[str, str]]:
    """A fresh, migrated PostgreSQL database for the test site; yields its environment."""
    import psycopg

    name = f"ion_api_{uuid.uuid4().hex[:12]}"
    dsn = {
        "host": postgres["ION_TEST_PG_HOST"],
        "port": postgres.get("ION_TEST_PG_PORT", "5432"),
        "user": postgres.get("ION_TEST_PG_USER", "postgres"),
        "password": postgres.get("ION_TEST_PG_PASSWORD", ""),
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**dsn) as connection:  # type: ignore[arg-type]
        connection.execute(f'CREATE DATABASE "{name}"')
    env = site_env(ion, {**postgres, "ION_TEST_PG_NAME": name})
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "--no-input", "-v", "0"],
        check=True,
        env=env,
        # Not the repository root, which would put its ion_oauth ahead of the installed one.
        cwd=HERE,
        timeout=300,
    )
    ion.reset_stats()
    try:
        yield env
    finally:
        with psycopg.connect(**dsn) as connection:  # type: ignore[arg-type]
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def two_servers(
    pg_site: dict[str, str], site_ports: tuple[int, int], tmp_path: Path
) -> Iterator[tuple[Server, Server]]:
    """Servers A and B: two processes of the test site sharing one PostgreSQL database."""
    servers: list[Server] = []
    try:
        for name, port in zip("AB", site_ports, strict=True):
            servers.append(Server(port, pg_site, tmp_path / f"server-{name}.log"))
        yield servers[0], servers[1]
    finally:
        for server in servers:
            server.stop()
