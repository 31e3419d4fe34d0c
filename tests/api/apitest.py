"""Helpers for the API client's integration tests: driving the sandbox's pages like a
browser, and running the test site as separate processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

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


class Forms(HTMLParser):
    """The forms of a page: action, hidden inputs, and submit buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": {}, "buttons": []})
        elif self.forms and tag == "input" and a.get("name"):
            self.forms[-1]["fields"][a["name"]] = a.get("value", "")
        elif self.forms and tag == "button" and a.get("name"):
            self.forms[-1]["buttons"].append((a["name"], a.get("value", "")))


def submit(http: requests.Session, page: requests.Response, button: tuple[str, str]) -> Any:
    """Press ``button`` in the page's form that has it; do not follow the answer."""
    parser = Forms()
    parser.feed(page.text)
    form = next((f for f in parser.forms if button in f["buttons"]), None)
    assert form is not None, f"no {button} button on {page.url}:\n{page.text[:2000]}"
    return http.post(
        urljoin(page.url, form["action"]),
        data={**form["fields"], button[0]: button[1]},
        allow_redirects=False,
    )


def authorize(http: requests.Session, url: str, person: int = 1) -> str:
    """Go through Ion's login (pick ``person``) and consent pages; return where Ion
    sends the browser back to (the site's callback URL with ``code`` and ``state``)."""
    page = http.get(url)
    if 'name="person"' in page.text:
        picked = submit(http, page, ("person", str(person)))
        assert picked.status_code == 302, picked.text[:2000]
        page = http.get(urljoin(page.url, picked.headers["Location"]))
    answer = submit(http, page, ("allow", "Authorize"))
    assert answer.status_code == 302, answer.text[:2000]
    return str(answer.headers["Location"])


def fetch_tokens(ion: IonSandbox, person: int = 1, scope: str = "read") -> dict[str, Any]:
    """Tokens for ``person`` straight from the sandbox, as a script without Django gets them."""
    redirect_uri = "http://testserver/complete/ion/"
    http = requests.Session()
    params = {
        "response_type": "code",
        "client_id": ion.client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": uuid.uuid4().hex,
    }
    url = requests.Request("GET", f"{ion.url}/oauth/authorize/", params=params).prepare().url
    callback = authorize(http, str(url), person)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    response = http.post(
        f"{ion.url}/oauth/token/",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": ion.client_id,
            "client_secret": ion.client_secret,
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def log_in(client: Any, ion: IonSandbox, next_url: str = "/") -> Any:
    """Log in with Ion through the Django test client; return the callback's response."""
    begin = client.post("/login/ion/", {"next": next_url})
    assert begin.status_code == 302, begin
    callback = urlsplit(authorize(requests.Session(), begin["Location"]))
    assert callback.path == "/complete/ion/"
    return client.get(f"{callback.path}?{callback.query}")


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
