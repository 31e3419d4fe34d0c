"""The OAuth2 authorization-code flow against a real sandbox, over HTTP, as on Ion."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ion"


def test_code_exchange_answers_with_ions_token_response_shape(browser: Any, site: Any) -> None:
    response = site.exchange(browser.code())

    assert response.status_code == 200
    recorded = json.loads((FIXTURES / "token_response.json").read_text())
    body = response.json()
    assert list(body) == list(recorded)
    assert body["expires_in"] == 36000
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "read"


def test_redirect_back_carries_the_state(browser: Any) -> None:
    assert browser.authorize(state="s-123")["state"] == "s-123"


def test_client_can_authenticate_with_http_basic(browser: Any, site: Any) -> None:
    code = browser.code()
    response = requests.post(
        f"{site.sandbox.url}/oauth/token/",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": site.redirect_uri},
        auth=(site.client_id, site.client_secret),
        timeout=10,
    )
    assert response.status_code == 200


def test_code_exchange_with_pkce_s256_succeeds(browser: Any, site: Any, pkce: Any) -> None:
    verifier, challenge = pkce
    code = browser.code(code_challenge=challenge, code_challenge_method="S256")

    assert site.exchange(code, code_verifier=verifier).status_code == 200


def test_wrong_pkce_verifier_is_invalid_grant(browser: Any, site: Any, pkce: Any) -> None:
    _, challenge = pkce
    code = browser.code(code_challenge=challenge, code_challenge_method="S256")

    response = site.exchange(code, code_verifier="x" * 50)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_missing_pkce_verifier_after_a_challenge_is_invalid_request(
    browser: Any, site: Any, pkce: Any
) -> None:
    _, challenge = pkce
    code = browser.code(code_challenge=challenge, code_challenge_method="S256")

    response = site.exchange(code)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_wrong_client_secret_is_401_invalid_client(browser: Any, site: Any) -> None:
    site.client_secret = "wrong"

    response = site.exchange(browser.code())

    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client"}


def test_reused_code_is_invalid_grant(browser: Any, site: Any) -> None:
    code = browser.code()
    assert site.exchange(code).status_code == 200

    response = site.exchange(code)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_refresh_returns_new_access_and_refresh_tokens(site: Any, tokens: dict[str, Any]) -> None:
    response = site.refresh(tokens["refresh_token"])

    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["access_token", "expires_in", "token_type", "scope", "refresh_token"]
    assert body["access_token"] != tokens["access_token"]
    assert body["refresh_token"] != tokens["refresh_token"]
    assert site.profile(body["access_token"]).status_code == 200


def test_old_refresh_token_is_invalid_grant_after_rotation(
    site: Any, tokens: dict[str, Any]
) -> None:
    assert site.refresh(tokens["refresh_token"]).status_code == 200

    response = site.refresh(tokens["refresh_token"])

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_old_access_token_is_refused_after_refresh(site: Any, tokens: dict[str, Any]) -> None:
    assert site.refresh(tokens["refresh_token"]).status_code == 200

    assert site.profile(tokens["access_token"]).status_code == 403


def test_cancel_redirects_with_access_denied_and_state(browser: Any) -> None:
    query = browser.authorize(allow=False, state="keep-me")

    assert query == {"error": "access_denied", "state": "keep-me"}


def test_consent_is_asked_again_on_every_login(browser: Any) -> None:
    browser.code()

    page = browser.consent_page()

    assert page.status_code == 200
    assert "Authorize" in page.text
    assert "Cancel" in page.text


@pytest.mark.parametrize("path", ["/oauth/revoke_token/", "/oauth/revoke_token"])
def test_revoke_token_endpoint_revokes_an_access_token(
    site: Any, tokens: dict[str, Any], path: str
) -> None:
    response = site.token(path, token=tokens["access_token"])

    assert response.status_code == 200
    assert site.profile(tokens["access_token"]).status_code == 403


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/token/"])
def test_token_endpoint_answers_with_and_without_trailing_slash(
    browser: Any, site: Any, path: str
) -> None:
    code = browser.code()
    response = site.token(
        path, grant_type="authorization_code", code=code, redirect_uri=site.redirect_uri
    )
    assert response.status_code == 200


def test_authorize_without_trailing_slash_shows_the_same_page(browser: Any) -> None:
    url = browser.authorize_url().replace("/oauth/authorize/?", "/oauth/authorize?")

    response = browser.get(url)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login/?next=")


def test_a_registered_loopback_redirect_uri_matches_on_any_port(browser: Any) -> None:
    """django-oauth-toolkit follows RFC 8252 section 7.3 for loopback IPs: the port of a
    registered ``http://127.0.0.1`` URI is ignored, as the README says."""
    page = browser.consent_page(redirect_uri="http://127.0.0.1:8003/complete/ion/")

    assert page.status_code == 200
    assert "Authorize" in page.text


def test_an_unregistered_path_on_a_loopback_host_is_refused(browser: Any) -> None:
    page = browser.consent_page(redirect_uri="http://127.0.0.1:8003/elsewhere/")

    assert page.status_code == 400
    assert "Authorize" not in page.text


def test_localhost_is_not_a_loopback_ip_so_its_port_must_match(browser: Any) -> None:
    page = browser.consent_page(redirect_uri="http://localhost:8003/complete/ion/")

    assert page.status_code == 400
