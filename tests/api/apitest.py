"""Helpers for the API client's integration tests: tokens straight from the sandbox, and
running the test site as separate processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ion_oauth.testing import IonSandbox

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
PG_BIN = Path(os.environ.get("ION_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


def skip_or_fail(reason: str) -> None:
    """Skip on a developer machine; in CI a missing requirement is a failure."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on :{port} exited:\n{log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on :{port} did not start:\n{log.read_text(errors='replace')}")


def as_postgres(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    # PostgreSQL refuses to run as root.
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)


def site_env(ion: IonSandbox, pg: dict[str, str]) -> dict[str, str]:
    """Environment for a process of the test site on PostgreSQL, pointed at the sandbox."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ION_TEST_")}
    env.update(pg)
    env.update(
        DJANGO_SETTINGS_MODULE="ion_api_site.settings",
        PYTHONPATH=os.pathsep.join([str(TESTS), str(HERE), env.get("PYTHONPATH", "")]),
        ION_TEST_ION_URL=ion.url,
        ION_TEST_ION_KEY=ion.client_id,
        ION_TEST_ION_SECRET=ion.client_secret,
        PYTHONUNBUFFERED="1",
    )
    return env


class Server:
    """``django-admin runserver --noreload`` of the test site on 127.0.0.1:port."""

    def __init__(self, port: int, env: dict[str, str], log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "django",
                    "runserver",
                    "--noreload",
                    "--skip-checks",
                    f"127.0.0.1:{port}",
                ],
                env=env,
                cwd=HERE,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_for_port(port, self.process, log)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:  # pragma: no cover - a hung server
            self.process.kill()
            self.process.wait()
