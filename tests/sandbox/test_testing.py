"""``ion_oauth.testing``: the IonSandbox context manager and the pytest fixtures."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests

from ion_oauth.testing import IonSandbox, IonSandboxError


def test_fixture_runs_a_sandbox_on_a_loopback_port(ion_sandbox: IonSandbox) -> None:
    assert ion_sandbox.url.startswith("http://127.0.0.1:")
    assert requests.get(f"{ion_sandbox.url}/login/", timeout=10).status_code == 200


def test_fixture_exposes_the_default_clients(ion_sandbox: IonSandbox) -> None:
    assert (ion_sandbox.client_id, ion_sandbox.client_secret) == (
        "ion-sandbox-client",
        "ion-sandbox-secret",
    )
    assert (ion_sandbox.oidc_client_id, ion_sandbox.oidc_client_secret) == (
        "ion-sandbox-oidc",
        "ion-sandbox-oidc-secret",
    )


def test_fixture_registers_no_extra_redirect_uris_by_default(
    ion_sandbox_redirect_uris: list[str],
) -> None:
    assert ion_sandbox_redirect_uris == []


def test_counters_start_at_zero() -> None:
    with IonSandbox() as sandbox:
        stats = sandbox.stats()

    # Only the connection of this very request.
    assert stats == {
        "token_requests": {"authorization_code": 0, "refresh_token": 0},
        "profile_requests": 0,
        "connections": 1,
    }


def test_redirect_uris_are_registered_on_both_clients() -> None:
    uri = "http://127.0.0.1:9999/callback/"
    with IonSandbox(redirect_uris=[uri]) as sandbox:
        for client_id in (sandbox.client_id, sandbox.oidc_client_id):
            query = {"response_type": "code", "client_id": client_id, "redirect_uri": uri}
            response = requests.get(
                f"{sandbox.url}/oauth/authorize/", params=query, allow_redirects=False, timeout=10
            )
            # Valid request, nobody logged in: on to the person picker.
            assert urlsplit(response.headers["Location"]).path == "/login/"


def test_stop_ends_the_server_and_keeps_its_output() -> None:
    sandbox = IonSandbox()
    sandbox.start()
    url = sandbox.url

    sandbox.stop()

    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/login/", timeout=5)
    assert "ion-sandbox: stopped" in sandbox.output


def test_stop_before_start_or_twice_does_nothing() -> None:
    sandbox = IonSandbox()
    sandbox.stop()
    sandbox.stop()

    assert sandbox.url == ""


def test_start_gives_up_after_the_startup_timeout() -> None:
    sandbox = IonSandbox(startup_timeout=0)

    with pytest.raises(IonSandboxError, match="did not start"):
        sandbox.start()
