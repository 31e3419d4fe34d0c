"""What the sandbox lets others do: control endpoints, binds, hosts, framing, its keys.

The sandbox has no passwords, so whoever reaches it is anyone they like. These tests guard
that it stays on loopback unless told otherwise, and that its control endpoints answer
only this run's ``IonSandbox`` (or whoever read the token from its banner).
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from ion_oauth.sandbox import control
from ion_oauth.sandbox.keys import ensure_secret_key
from ion_oauth.sandbox.network import allowed_hosts, is_loopback_host
from ion_oauth.testing import IonSandbox

#: Every route under ``sandbox/``: each must be a ``@control_endpoint``. A new control
#: endpoint is added here (the test below fails until it is).
CONTROL_PATHS = {
    "sandbox/tokens/expire": "POST",
    "sandbox/tokens/revoke": "POST",
    "sandbox/stats": "GET",
    "sandbox/stats/reset": "POST",
    "sandbox/emergency": "POST",
    "sandbox/api/reset": "POST",
}

LIST_ROUTES = """
import json, os, django
os.environ["DJANGO_SETTINGS_MODULE"] = "ion_oauth.sandbox.settings"
django.setup()
from django.urls import get_resolver
from ion_oauth.sandbox.control import MARKER

def walk(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if hasattr(pattern, "url_patterns"):
            yield from walk(pattern.url_patterns, route)
        else:
            yield route, getattr(pattern.callback, MARKER, False)

print(json.dumps(sorted(set(walk(get_resolver().url_patterns)))))
"""


def test_every_route_under_sandbox_is_a_listed_control_endpoint(tmp_path: Path) -> None:
    """Guards against a control endpoint anyone on the machine (or a web page) can call."""
    result = subprocess.run(
        [sys.executable, "-c", LIST_ROUTES],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "ION_SANDBOX_DATA_DIR": str(tmp_path)},
        cwd=tmp_path,
        check=True,
    )
    routes = json.loads(result.stdout)
    under_sandbox = {
        route.rstrip("/"): marked for route, marked in routes if route.startswith("sandbox/")
    }

    assert set(under_sandbox) == set(CONTROL_PATHS)
    assert all(under_sandbox.values()), under_sandbox
    outside = [route for route, marked in routes if marked and not route.startswith("sandbox/")]
    assert outside == []


@pytest.mark.parametrize(("path", "method"), sorted(CONTROL_PATHS.items()))
@pytest.mark.parametrize("headers", [{}, {control.HEADER: "not-the-token"}, {control.HEADER: ""}])
def test_control_endpoints_refuse_requests_without_this_runs_token(
    ion_sandbox: IonSandbox, path: str, method: str, headers: dict[str, str]
) -> None:
    """Guards against any local process or web page expiring or revoking every token."""
    before = ion_sandbox.stats()

    response = requests.request(method, f"{ion_sandbox.url}/{path}", headers=headers, timeout=10)

    assert response.status_code == 403
    assert response.json() == control.BAD_TOKEN
    after = ion_sandbox.stats()
    assert after["token_requests"] == before["token_requests"]


@pytest.mark.parametrize(("path", "method"), sorted(CONTROL_PATHS.items()))
def test_control_endpoints_answer_this_runs_token(
    ion_sandbox: IonSandbox, path: str, method: str
) -> None:
    response = requests.request(
        method, f"{ion_sandbox.url}/{path}", headers=ion_sandbox.control_headers(), timeout=10
    )

    assert response.status_code == 200


def ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse("done")


@pytest.mark.parametrize("address", ["192.0.2.7", "2001:db8::1", "", "not-an-address"])
def test_control_endpoints_refuse_peers_beyond_loopback_even_with_the_token(
    monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    """Guards against a sandbox run with --allow-remote being controlled from the network."""
    monkeypatch.setenv(control.TOKEN_ENV, "the-token")
    request = RequestFactory().post(
        "/sandbox/x", REMOTE_ADDR=address, HTTP_X_ION_SANDBOX_TOKEN="the-token"
    )

    response = control.control_endpoint(ok)(request)

    assert response.status_code == 403
    assert json.loads(response.content) == control.NOT_LOOPBACK


@pytest.mark.parametrize("address", ["127.0.0.1", "127.5.6.7", "::1"])
def test_control_endpoints_answer_loopback_peers_with_the_token(
    monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    monkeypatch.setenv(control.TOKEN_ENV, "the-token")
    request = RequestFactory().post(
        "/sandbox/x", REMOTE_ADDR=address, HTTP_X_ION_SANDBOX_TOKEN="the-token"
    )

    assert control.control_endpoint(ok)(request).content == b"done"


def test_control_endpoints_refuse_everyone_when_no_token_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(control.TOKEN_ENV, raising=False)
    request = RequestFactory().post(
        "/sandbox/x", REMOTE_ADDR="127.0.0.1", HTTP_X_ION_SANDBOX_TOKEN=""
    )

    assert control.control_endpoint(ok)(request).status_code == 403


def test_ensure_token_makes_one_token_per_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(control.TOKEN_ENV, raising=False)

    token = control.ensure_token()

    assert len(token) >= 40
    assert control.ensure_token() == token == os.environ[control.TOKEN_ENV]


def test_the_banner_prints_the_control_token(ion_sandbox: IonSandbox) -> None:
    assert f"{control.HEADER}: {ion_sandbox.control_token}" in ion_sandbox.output


def test_a_token_given_in_the_environment_is_used() -> None:
    with IonSandbox(env={control.TOKEN_ENV: "chosen-token"}) as sandbox:
        assert sandbox.control_token == "chosen-token"
        assert sandbox.stats()["profile_requests"] == 0


def run_cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "ion_oauth.sandbox",
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.7", "::", "example.com"])  # noqa: S104
def test_a_bind_beyond_loopback_is_refused_without_allow_remote(tmp_path: Path, host: str) -> None:
    """Guards against a password-less Ion on the network by a typo or a copied command."""
    result = run_cli("--host", host, data_dir=tmp_path / "data")

    assert result.returncode == 2
    assert f"refusing to listen on {host}" in result.stderr
    assert "--allow-remote" in result.stderr
    assert not (tmp_path / "data").exists()


def test_allow_remote_prints_a_loud_warning(tmp_path: Path) -> None:
    # 192.0.2.7 (TEST-NET-1) is nobody's address: the bind fails, so nothing listens.
    result = run_cli("--host", "192.0.2.7", "--allow-remote", data_dir=tmp_path / "data")

    assert "listening on 192.0.2.7, beyond this machine's loopback" in result.stderr
    assert "anyone who can reach it can log in as any" in result.stderr
    assert result.returncode == 2
    assert "ion-sandbox: cannot listen on 192.0.2.7:0" in result.stderr


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost", "LOCALHOST"]
)
def test_loopback_hosts_are_loopback(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.0.2.7", "10.0.0.1", "example.com"])  # noqa: S104
def test_other_hosts_are_not_loopback(host: str) -> None:
    assert not is_loopback_host(host)


def test_allowed_hosts_follow_the_bind() -> None:
    """Guards against ALLOWED_HOSTS naming hosts the sandbox does not listen on."""
    assert allowed_hosts("127.0.0.1") == ["127.0.0.1", "localhost", "[::1]"]
    assert allowed_hosts("127.0.0.2") == ["127.0.0.1", "localhost", "[::1]", "127.0.0.2"]
    assert allowed_hosts("192.0.2.7") == ["192.0.2.7"]
    assert allowed_hosts("2001:db8::1") == ["[2001:db8::1]"]
    assert allowed_hosts("ion.example.test") == ["ion.example.test"]
    assert socket.gethostname() in allowed_hosts("0.0.0.0")  # noqa: S104


def test_requests_for_another_host_name_are_refused(ion_sandbox: IonSandbox) -> None:
    response = requests.get(
        f"{ion_sandbox.url}/login/", headers={"Host": "ion.evil.test"}, timeout=10
    )

    assert response.status_code == 400


def test_pages_may_not_be_framed(ion_sandbox: IonSandbox) -> None:
    """Guards against another site framing the consent page to click Authorize for a user."""
    response = requests.get(f"{ion_sandbox.url}/login/", timeout=10)

    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_secret_key_is_random_per_data_dir_and_kept(tmp_path: Path) -> None:
    """Guards against forging the sandbox's sessions with a key published in its source."""
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()

    key = ensure_secret_key(first)

    assert len(key) >= 50
    assert ensure_secret_key(first) == key
    assert ensure_secret_key(second) != key
    assert stat.S_IMODE((first / "secret-key").stat().st_mode) == 0o600


def test_a_running_sandbox_keeps_its_secret_key_in_its_data_dir(tmp_path: Path) -> None:
    with IonSandbox(data_dir=tmp_path):
        pass

    assert stat.S_IMODE((tmp_path / "secret-key").stat().st_mode) == 0o600
