"""OpenID Connect on the sandbox: discovery, JWKS, ID tokens and userinfo shaped like Ion's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from jwcrypto import jwk, jwt

from ion_oauth.testing import IonSandbox

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ion"
RECORDED_HOST = "http://127.0.0.1:8080"
OIDC_SCOPE = "openid profile email groups read"


def recorded(name: str, sandbox: Any = None) -> Any:
    """A recorded Ion document, with Ion's host replaced by the sandbox's."""
    text = (FIXTURES / name).read_text()
    if sandbox is not None:
        text = text.replace(RECORDED_HOST, sandbox.url)
    return json.loads(text)


@pytest.fixture
def oidc_tokens(browser: Any, oidc_site: Any) -> dict[str, Any]:
    code = browser.code(
        client_id=oidc_site.client_id,
        redirect_uri=oidc_site.redirect_uri,
        scope=OIDC_SCOPE,
        nonce="the-nonce",
    )
    response = oidc_site.exchange(code)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def verified_claims(sandbox: Any, id_token: str, audience: str) -> dict[str, Any]:
    """The ID token's claims once its RS256 signature checks out against the JWKS."""
    keys = requests.get(f"{sandbox.url}/oauth/.well-known/jwks.json", timeout=10).text
    token = jwt.JWT(
        jwt=id_token,
        key=jwk.JWKSet.from_json(keys),
        algs=["RS256"],
        check_claims={"iss": f"{sandbox.url}/oauth", "aud": audience, "exp": None},
    )
    return json.loads(token.claims)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "path", ["/oauth/.well-known/openid-configuration", "/oauth/.well-known/openid-configuration/"]
)
def test_discovery_document_equals_ions_on_the_sandbox_host(ion_sandbox: Any, path: str) -> None:
    response = requests.get(ion_sandbox.url + path, timeout=10)

    assert response.status_code == 200
    assert list(response.json().items()) == list(
        recorded("oidc_discovery.json", ion_sandbox).items()
    )


@pytest.mark.parametrize("path", ["/oauth/.well-known/jwks.json", "/oauth/.well-known/jwks.json/"])
def test_jwks_has_one_rs256_signing_key_in_ions_shape(ion_sandbox: Any, path: str) -> None:
    response = requests.get(ion_sandbox.url + path, timeout=10)

    (key,) = response.json()["keys"]
    (expected,) = recorded("oidc_jwks.json")["keys"]
    assert list(key) == list(expected)
    assert {k: key[k] for k in ("alg", "e", "kty", "use")} == {
        k: expected[k] for k in ("alg", "e", "kty", "use")
    }
    assert key["kid"] == jwk.JWK(**key).thumbprint()


def test_token_response_carries_an_id_token(oidc_tokens: dict[str, Any]) -> None:
    assert list(oidc_tokens) == [
        "access_token",
        "expires_in",
        "token_type",
        "scope",
        "refresh_token",
        "id_token",
    ]


def test_id_token_signature_issuer_audience_and_nonce_verify(
    ion_sandbox: Any, oidc_site: Any, oidc_tokens: dict[str, Any]
) -> None:
    claims = verified_claims(ion_sandbox, oidc_tokens["id_token"], oidc_site.client_id)

    assert claims["nonce"] == "the-nonce"
    assert claims["sub"] == "1"


def test_id_token_has_ions_claims_for_the_student(
    ion_sandbox: Any, oidc_site: Any, oidc_tokens: dict[str, Any]
) -> None:
    claims = verified_claims(ion_sandbox, oidc_tokens["id_token"], oidc_site.client_id)

    expected = recorded("id_token_claims.json")["claims"]
    assert sorted(claims) == sorted(expected)
    timing = {"aud", "auth_time", "exp", "iat", "iss", "jti", "nonce", "at_hash"}
    assert {k: v for k, v in claims.items() if k not in timing} == {
        k: v for k, v in expected.items() if k not in timing
    }
    assert claims["exp"] - claims["iat"] == expected["exp"] - expected["iat"]


def test_id_token_header_is_rs256_with_the_jwks_kid(
    ion_sandbox: Any, oidc_tokens: dict[str, Any]
) -> None:
    header = jwt.JWT(jwt=oidc_tokens["id_token"]).token.jose_header
    (key,) = requests.get(f"{ion_sandbox.url}/oauth/.well-known/jwks.json", timeout=10).json()[
        "keys"
    ]

    assert header == {"alg": "RS256", "kid": key["kid"], "typ": "JWT"}


@pytest.mark.parametrize("path", ["/oauth/userinfo/", "/oauth/userinfo"])
def test_userinfo_equals_ions_for_the_student(
    ion_sandbox: Any, oidc_tokens: dict[str, Any], path: str
) -> None:
    response = requests.get(
        ion_sandbox.url + path,
        headers={"Authorization": f"Bearer {oidc_tokens['access_token']}"},
        timeout=10,
    )

    assert response.status_code == 200
    assert list(response.json().items()) == list(recorded("userinfo_student.json").items())


def test_userinfo_refuses_a_bogus_token(ion_sandbox: Any) -> None:
    response = requests.get(
        f"{ion_sandbox.url}/oauth/userinfo/",
        headers={"Authorization": "Bearer bogus"},
        timeout=10,
    )

    assert response.status_code == 401


def test_claims_follow_the_granted_scopes(ion_sandbox: Any, browser: Any, oidc_site: Any) -> None:
    code = browser.code(
        client_id=oidc_site.client_id, redirect_uri=oidc_site.redirect_uri, scope="openid read"
    )
    id_token = oidc_site.exchange(code).json()["id_token"]

    claims = verified_claims(ion_sandbox, id_token, oidc_site.client_id)

    assert "email" not in claims
    assert "groups" not in claims
    assert claims["sub"] == "1"


def test_eighth_admin_carries_the_admin_eighth_group(
    ion_sandbox: Any, browser: Any, oidc_site: Any
) -> None:
    code = browser.code(
        3, client_id=oidc_site.client_id, redirect_uri=oidc_site.redirect_uri, scope=OIDC_SCOPE
    )
    id_token = oidc_site.exchange(code).json()["id_token"]

    claims = verified_claims(ion_sandbox, id_token, oidc_site.client_id)

    assert claims["groups"] == ["admin_eighth"]
    assert claims["preferred_username"] == "eadmin"


def test_rp_initiated_logout_page_is_served(ion_sandbox: Any) -> None:
    response = requests.get(f"{ion_sandbox.url}/oauth/logout/", timeout=10)

    assert response.status_code == 200


DISCOVERY = "/oauth/.well-known/openid-configuration"


def test_behind_a_tls_proxy_the_sandbox_publishes_https_urls() -> None:
    """With ION_SANDBOX_BEHIND_TLS_PROXY, X-Forwarded-Proto: https makes the URLs https."""
    with IonSandbox(env={"ION_SANDBOX_BEHIND_TLS_PROXY": "1"}) as sandbox:
        config = requests.get(
            sandbox.url + DISCOVERY, headers={"X-Forwarded-Proto": "https"}, timeout=10
        ).json()

    https = sandbox.url.replace("http://", "https://")
    assert config["issuer"] == f"{https}/oauth"
    assert config["token_endpoint"] == f"{https}/oauth/token/"


def test_otherwise_x_forwarded_proto_is_not_trusted(ion_sandbox: Any) -> None:
    config = requests.get(
        ion_sandbox.url + DISCOVERY, headers={"X-Forwarded-Proto": "https"}, timeout=10
    ).json()

    assert config["issuer"] == f"{ion_sandbox.url}/oauth"
