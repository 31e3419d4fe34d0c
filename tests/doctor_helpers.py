"""Helpers for the ``ion_doctor`` tests (a module of its own, not conftest, so that
``from doctor_helpers import ...`` is unambiguous)."""

from __future__ import annotations

import io
import json
import socket
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandError

SITE = "http://127.0.0.1:8000"


class Run:
    """One ``manage.py ion_doctor`` run: its exit status, text and findings."""

    def __init__(self, *args: str) -> None:
        self.args = args
        out, err = io.StringIO(), io.StringIO()
        self.status = 0
        try:
            call_command("ion_doctor", *args, stdout=out, stderr=err, no_color=True)
        except CommandError as error:
            self.status = error.returncode
            self.error = str(error)
        self.output = out.getvalue()
        self.json: dict[str, Any] = json.loads(self.output) if "--json" in args else {}

    def findings(
        self, level: str | None = None, section: str | None = None
    ) -> list[dict[str, Any]]:
        return [
            f
            for f in self.json["findings"]
            if (level is None or f["level"] == level)
            and (section is None or f["section"] == section)
        ]

    def one_error(self) -> dict[str, Any]:
        """The run's only error (a broken setup breaks one thing)."""
        errors = self.findings("error")
        assert len(errors) == 1, errors
        return errors[0]


def doctor(*args: str) -> Run:
    return Run("--site-url", SITE, "--json", *args)


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
