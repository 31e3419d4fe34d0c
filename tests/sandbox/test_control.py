"""The sandbox's control endpoints (``/sandbox/...``) and IonSandbox's methods for them."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from ion_oauth.testing import IonSandbox, IonSandboxError


def test_expire_tokens_reports_how_many_expired(ion_sandbox: Any, tokens: dict[str, Any]) -> None:
    assert ion_sandbox.expire_tokens() >= 1


def test_revoke_tokens_stops_access_and_refresh_tokens(
    ion_sandbox: Any, site: Any, tokens: dict[str, Any]
) -> None:
    assert ion_sandbox.revoke_tokens() >= 2

    assert site.profile(tokens["access_token"]).status_code == 403
    refresh = site.refresh(tokens["refresh_token"])
    assert refresh.status_code == 400
    assert refresh.json()["error"] == "invalid_grant"


def test_stats_count_token_requests_by_grant_type(
    ion_sandbox: Any, site: Any, tokens: dict[str, Any]
) -> None:
    ion_sandbox.reset_stats()
    site.refresh(tokens["refresh_token"])
    site.token(grant_type="client_credentials")

    counts = ion_sandbox.stats()["token_requests"]

    assert counts == {"authorization_code": 0, "refresh_token": 1, "client_credentials": 1}


def test_stats_count_profile_requests(ion_sandbox: Any, site: Any) -> None:
    ion_sandbox.reset_stats()
    site.profile("bogus")
    site.profile("bogus")

    assert ion_sandbox.stats()["profile_requests"] == 2


def test_stats_count_tcp_connections(ion_sandbox: Any) -> None:
    ion_sandbox.reset_stats()
    with requests.Session() as session:
        # One keep-alive connection carries both requests.
        session.get(f"{ion_sandbox.url}/api/profile", timeout=10)
        session.get(f"{ion_sandbox.url}/api/profile", timeout=10)
    requests.get(f"{ion_sandbox.url}/api/profile", timeout=10)

    # The stats request itself is the third connection.
    assert ion_sandbox.stats()["connections"] == 3


def test_reset_stats_starts_again_from_zero(ion_sandbox: Any, site: Any) -> None:
    site.profile("bogus")

    ion_sandbox.reset_stats()

    assert ion_sandbox.stats() == {
        "token_requests": {"authorization_code": 0, "refresh_token": 0},
        "profile_requests": 0,
        "connections": 1,
    }


@pytest.mark.parametrize(
    "path", ["/sandbox/tokens/expire", "/sandbox/tokens/revoke", "/sandbox/stats/reset"]
)
def test_control_actions_need_post(ion_sandbox: Any, path: str) -> None:
    response = requests.get(
        ion_sandbox.url + path, headers=ion_sandbox.control_headers(), timeout=10
    )

    assert response.status_code == 405


def test_control_endpoints_answer_without_trailing_slash_and_with(ion_sandbox: Any) -> None:
    headers = ion_sandbox.control_headers()
    plain = requests.get(f"{ion_sandbox.url}/sandbox/stats", headers=headers, timeout=10)
    slashed = requests.get(f"{ion_sandbox.url}/sandbox/stats/", headers=headers, timeout=10)

    assert (plain.status_code, slashed.status_code) == (200, 200)


def test_control_methods_fail_clearly_when_the_sandbox_is_not_running() -> None:
    sandbox = IonSandbox()

    with pytest.raises(IonSandboxError, match="not running"):
        sandbox.stats()


def test_control_methods_fail_clearly_once_the_sandbox_has_stopped() -> None:
    with IonSandbox() as sandbox:
        pass

    with pytest.raises(IonSandboxError, match="/sandbox/stats failed"):
        sandbox.stats()
