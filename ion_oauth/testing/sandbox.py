"""A real Ion sandbox on a free loopback port, for a site's test suite.

``with IonSandbox() as ion:`` starts ``python -m ion_oauth.sandbox`` in a subprocess with a
temporary data dir and stops it on exit. Nothing here touches Django settings, so this module
can be imported before they exist.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["IonSandbox", "IonSandboxError"]

_READY = re.compile(r"^Listening on (http://\S+)", re.MULTILINE)


class IonSandboxError(RuntimeError):
    """The sandbox did not start, or a control request to it failed."""


class IonSandbox:
    """A running Ion sandbox: ``with IonSandbox() as ion:`` starts it, leaving stops it.

    ``redirect_uris`` are registered on both clients besides the defaults; ``port=0`` picks
    a free port; ``env`` adds environment variables (e.g. ``ION_SANDBOX_CLIENT_ID``);
    ``data_dir`` keeps the data in that directory (not deleted on exit) instead of a
    temporary one; ``args`` are more command-line arguments (e.g. ``["--people", path]``).
    """

    def __init__(
        self,
        *,
        redirect_uris: Sequence[str] = (),
        port: int = 0,
        env: Mapping[str, str] | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        args: Sequence[str] = (),
        startup_timeout: float = 60.0,
    ) -> None:
        self.redirect_uris = list(redirect_uris)
        self.port = port
        self.env = dict(env or {})
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.args = list(args)
        self.startup_timeout = startup_timeout
        self.client_id = self.env.get("ION_SANDBOX_CLIENT_ID", "ion-sandbox-client")
        self.client_secret = self.env.get("ION_SANDBOX_CLIENT_SECRET", "ion-sandbox-secret")
        self.oidc_client_id = self.env.get("ION_SANDBOX_OIDC_CLIENT_ID", "ion-sandbox-oidc")
        self.oidc_client_secret = self.env.get(
            "ION_SANDBOX_OIDC_CLIENT_SECRET", "ion-sandbox-oidc-secret"
        )
        #: This run's token for the control endpoints, sent as ``X-Ion-Sandbox-Token``.
        self.control_token = self.env.get("ION_SANDBOX_CONTROL_TOKEN") or secrets.token_urlsafe(32)
        self.url = ""
        self.output = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._tempdir: str | None = None

    def __enter__(self) -> IonSandbox:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start the sandbox and wait until it answers; IonSandboxError if it does not."""
        self._tempdir = tempfile.mkdtemp(prefix="ion-sandbox-")
        data_dir = self.data_dir or Path(self._tempdir) / "data"
        command = [sys.executable, "-m", "ion_oauth.sandbox", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--data-dir", str(data_dir)]
        for uri in self.redirect_uris:
            command += ["--redirect-uri", uri]
        command += self.args
        env = {
            **os.environ,
            **self.env,
            "ION_SANDBOX_CONTROL_TOKEN": self.control_token,
            "PYTHONUNBUFFERED": "1",
        }
        # The caller's settings module belongs to the caller's project, not the sandbox.
        env.pop("DJANGO_SETTINGS_MODULE", None)
        log = Path(self._tempdir) / "sandbox.log"
        with log.open("wb") as out:
            # The log is a file, not a pipe: a pipe nobody reads would fill and block it.
            # Started in the temporary directory: ``-m`` puts the working directory first on
            # sys.path, and a source checkout there would shadow the installed package.
            self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=self._tempdir
            )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            self.output = log.read_text(errors="replace")
            match = _READY.search(self.output)
            if match:
                self.url = match.group(1)
                # Counters start at zero for the caller, not counting this check.
                self.reset_stats()
                return
            if self._process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise IonSandboxError(f"the Ion sandbox did not start:\n{self.output}")

    def stop(self) -> None:
        """Stop the sandbox (SIGTERM, so it exits cleanly) and remove its temporary files.

        ``output`` keeps what it printed. Stopping twice, or before starting, does nothing.
        """
        if self._process is not None:
            if self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(timeout=15)
                except subprocess.TimeoutExpired:  # pragma: no cover - a hung sandbox
                    self._process.kill()
                    self._process.wait()
            self._process = None
        if self._tempdir is not None:
            self.output = (Path(self._tempdir) / "sandbox.log").read_text(errors="replace")
            shutil.rmtree(self._tempdir, ignore_errors=True)
            self._tempdir = None

    def control_headers(self) -> dict[str, str]:
        """The header a request to a control endpoint (``/sandbox/...``) must carry."""
        return {"X-Ion-Sandbox-Token": self.control_token}

    def _control(
        self, method: str, path: str, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        if not self.url:
            raise IonSandboxError("the Ion sandbox is not running")
        headers = self.control_headers()
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(  # noqa: S310 - http on loopback
            self.url + path, data=payload, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                data: dict[str, Any] = json.load(response)
        except (OSError, ValueError) as error:
            raise IonSandboxError(f"{method} {path} failed: {error}") from error
        return data

    def set_emergency(self, message: str) -> None:
        """Make ``/api/emerg`` report an emergency: ``message`` is HTML, as Ion sends it
        (``"<h3>Schools closed</h3><hr />..."``)."""
        self._control("POST", "/sandbox/emergency", {"status": True, "message": message})

    def clear_emergency(self) -> None:
        """Make ``/api/emerg`` report no emergency again (``status`` false, ``message`` "")."""
        self._control("POST", "/sandbox/emergency", {"status": False, "message": ""})

    def reset_api_data(self) -> None:
        """Undo every change made through the API (signups, favorites, announcements, the
        emergency): the data is again what the sandbox started with."""
        self._control("POST", "/sandbox/api/reset")

    def expire_tokens(self) -> int:
        """Make every access token expire now; return how many there were."""
        return int(self._control("POST", "/sandbox/tokens/expire")["expired"])

    def revoke_tokens(self) -> int:
        """Revoke every access and refresh token; return how many were revoked."""
        return int(self._control("POST", "/sandbox/tokens/revoke")["revoked"])

    def stats(self) -> dict[str, Any]:
        """Counters since start: token requests by grant type, profile requests, connections."""
        return self._control("GET", "/sandbox/stats")

    def reset_stats(self) -> None:
        """Set the counters back to zero."""
        self._control("POST", "/sandbox/stats/reset")

    def set_clock_offset(self, seconds: int) -> None:
        """Make the sandbox's clock (its ``Date`` header) run ``seconds`` ahead; 0 to undo."""
        self._control("POST", "/sandbox/clock/offset", {"seconds": str(int(seconds))})
