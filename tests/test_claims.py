"""ion_oauth.claims: the pure checks on Ion's discovery document, keys and ID token claims.

Every refusal is an :class:`IonResponseError` whose ``code`` and ``stage`` a site's error
handler or log filter may read, so they are asserted along with the message a person sees.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from ion_fakes import ION, load_fixture

from ion_oauth.claims import (
    at_hash,
    describe_jwt_error,
    invalid_id_token,
    parse_claims,
    parse_discovery,
    parse_jwks,
    unknown_key,
)
from ion_oauth.exceptions import IonResponseError

KID = "ion-key-1"
#: Stands for the backend a refusal names (a site's handler reads ``error.backend``).
BACKEND: Any = object()


def discovery(**overrides: Any) -> dict[str, Any]:
    """Ion's recorded discovery document, moved to the test site's Ion."""
    text = json.dumps(load_fixture("oidc_discovery.json"))
    body: dict[str, Any] = json.loads(text.replace("http://127.0.0.1:8080", ION))
    body.update(overrides)
    return {name: value for name, value in body.items() if value is not None}


def missing(what: str, field: str) -> str:
    return (
        f"Ion's {what} has a missing or invalid '{field}' field. "
        "Please try again later or tell the site's administrator."
    )


def away(field: str, base_url: str = ION) -> str:
    return (
        f"Ion's OpenID configuration points its '{field}' away from {base_url}, so this "
        "site did not use it. You were not logged in; please tell the site's administrator."
    )


@pytest.fixture(scope="module")
def ion_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: rsa.RSAPrivateKey, **overrides: Any) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": KID, "alg": "RS256", "use": "sig"})
    jwk.update(overrides)
    return {name: value for name, value in jwk.items() if value is not None}


# -- the discovery document -------------------------------------------------------------


@pytest.mark.parametrize(
    "field", ["issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"]
)
@pytest.mark.parametrize("value", [None, 42, "", "ftp://ion.example.test/x", "https://", "/oauth/"])
def test_each_endpoint_must_be_an_http_url(field, value):
    with pytest.raises(IonResponseError) as caught:
        parse_discovery(discovery(**{field: value}), stage="auth_start")

    assert caught.value.message == missing("OpenID configuration", field)
    assert caught.value.code == "missing_claim"
    assert caught.value.stage == "auth_start"


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_endpoints_on_http_and_https_are_kept(scheme):
    body = discovery(token_endpoint=f"{scheme}://ion.example.test/oauth/token/")

    assert parse_discovery(body)["token_endpoint"] == f"{scheme}://ion.example.test/oauth/token/"


def test_the_stage_defaults_to_unknown():
    with pytest.raises(IonResponseError) as caught:
        parse_discovery(discovery(issuer=None))

    assert caught.value.stage == "unknown"


@pytest.mark.parametrize("value", [42, "", "mailto:ion@example.test", "//ion.example.test/x"])
def test_an_end_session_endpoint_that_is_not_an_http_url_is_refused(value):
    with pytest.raises(IonResponseError) as caught:
        parse_discovery(discovery(end_session_endpoint=value), stage="logout")

    assert caught.value.message == missing("OpenID configuration", "end_session_endpoint")
    assert caught.value.code == "missing_claim"
    assert caught.value.stage == "logout"


def test_only_the_endpoints_the_package_uses_are_returned():
    assert parse_discovery(discovery(), base_url=ION) == {
        "issuer": f"{ION}/oauth",
        "authorization_endpoint": f"{ION}/oauth/authorize/",
        "token_endpoint": f"{ION}/oauth/token/",
        "jwks_uri": f"{ION}/oauth/.well-known/jwks.json",
        "end_session_endpoint": f"{ION}/oauth/logout/",
    }


@pytest.mark.parametrize("base_url", [ION, ION + "/", ION + "//"])
def test_a_base_url_with_trailing_slashes_is_the_same_ion(base_url):
    assert parse_discovery(discovery(), base_url=base_url)["issuer"] == f"{ION}/oauth"


def test_an_issuer_with_a_trailing_slash_is_accepted():
    body = discovery(issuer=f"{ION}/oauth/")

    assert parse_discovery(body, base_url=ION)["issuer"] == f"{ION}/oauth/"


@pytest.mark.parametrize(
    "issuer",
    [
        ION,
        f"{ION}/oauth2",
        f"{ION}/oauthX",
        f"{ION}/other/oauth",
        "https://evil.example.test/oauth",
    ],
)
def test_an_issuer_other_than_the_base_urls_oauth_is_refused(issuer, caplog):
    with (
        caplog.at_level(logging.WARNING, logger="ion_oauth"),
        pytest.raises(IonResponseError) as caught,
    ):
        parse_discovery(discovery(issuer=issuer), base_url=ION, stage="auth_start")

    assert caught.value.message == away("issuer")
    assert caught.value.code == "invalid_claim"
    assert caught.value.stage == "auth_start"
    assert caplog.messages == [
        f"Ion's OpenID configuration names issuer {issuer!r}, which is not on the base URL {ION!r}"
    ]


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.test/oauth/token/",
        "http://ion.example.test/oauth/token/",
        "https://ion.example.test:8443/oauth/token/",
        "https://ion.example.test.evil.example/oauth/token/",
    ],
)
def test_an_endpoint_on_another_origin_is_refused(url):
    with pytest.raises(IonResponseError) as caught:
        parse_discovery(discovery(token_endpoint=url), base_url=ION)

    assert caught.value.message == away("token_endpoint")
    assert caught.value.code == "invalid_claim"


def test_the_first_endpoint_away_from_ion_is_the_one_named():
    body = discovery(
        authorization_endpoint="https://evil.example.test/a",
        jwks_uri="https://evil.example.test/k",
    )

    with pytest.raises(IonResponseError) as caught:
        parse_discovery(body, base_url=ION)

    assert caught.value.message == away("authorization_endpoint")


def test_an_end_session_endpoint_away_from_ion_is_refused():
    with pytest.raises(IonResponseError) as caught:
        parse_discovery(
            discovery(end_session_endpoint="https://evil.example.test/logout/"), base_url=ION
        )

    assert caught.value.message == away("end_session_endpoint")


def test_the_refused_url_is_logged_without_its_query(caplog):
    url = "https://evil.example.test/oauth/token/?secret=s3cr3t?more"

    with caplog.at_level(logging.WARNING, logger="ion_oauth"), pytest.raises(IonResponseError):
        parse_discovery(discovery(token_endpoint=url), base_url=ION)

    assert caplog.messages == [
        "Ion's OpenID configuration names token_endpoint "
        "'https://evil.example.test/oauth/token/', which is not on the base URL "
        f"{ION!r}"
    ]


@pytest.mark.parametrize(
    ("base_url", "endpoint"),
    [
        ("https://ion.example.test", "https://ION.Example.Test/oauth/token/"),
        ("https://ion.example.test", "https://ion.example.test:443/oauth/token/"),
        ("https://ion.example.test:443", "https://ion.example.test/oauth/token/"),
        ("http://ion.example.test", "http://ion.example.test:80/oauth/token/"),
        ("http://ion.example.test:8080", "http://ion.example.test:8080/oauth/token/"),
    ],
)
def test_the_same_origin_spelled_differently_is_accepted(base_url, endpoint):
    body = {
        "issuer": f"{base_url}/oauth",
        "authorization_endpoint": endpoint,
        "token_endpoint": endpoint,
        "jwks_uri": endpoint,
    }

    assert parse_discovery(body, base_url=base_url)["token_endpoint"] == endpoint


@pytest.mark.parametrize(
    ("base_url", "endpoint"),
    [
        ("http://ion.example.test", "http://ion.example.test:443/oauth/token/"),
        ("https://ion.example.test", "https://ion.example.test:80/oauth/token/"),
        ("http://ion.example.test:8080", "http://ion.example.test/oauth/token/"),
    ],
)
def test_a_port_other_than_the_base_urls_is_refused(base_url, endpoint):
    body = {
        "issuer": f"{base_url}/oauth",
        "authorization_endpoint": f"{base_url}/a",
        "token_endpoint": endpoint,
        "jwks_uri": f"{base_url}/k",
    }

    with pytest.raises(IonResponseError) as caught:
        parse_discovery(body, base_url=base_url)

    assert caught.value.message == away("token_endpoint", base_url)


# -- signing keys -----------------------------------------------------------------------


@pytest.mark.parametrize("body", [{}, {"keys": None}, {"keys": {"kid": KID}}, {"keys": "k"}])
def test_keys_that_are_not_a_list_are_refused(body):
    with pytest.raises(IonResponseError) as caught:
        parse_jwks(body)

    assert caught.value.message == missing("signing keys", "keys")
    assert caught.value.code == "missing_claim"
    assert caught.value.stage == "token_validation"


def test_the_stage_of_a_keys_error_is_the_callers():
    with pytest.raises(IonResponseError) as caught:
        parse_jwks({}, stage="auth_complete")

    assert caught.value.stage == "auth_complete"


def test_an_rs256_signing_key_is_kept_by_its_id(ion_key):
    keys = parse_jwks({"keys": [public_jwk(ion_key)]})

    assert list(keys) == [KID]
    assert keys[KID].algorithm_name == "RS256"
    assert keys[KID].key_id == KID


def test_a_key_without_use_or_alg_is_taken_for_an_rs256_signing_key(ion_key):
    keys = parse_jwks({"keys": [public_jwk(ion_key, use=None, alg=None)]})

    assert list(keys) == [KID]


@pytest.mark.parametrize(
    "overrides",
    [
        {"use": "enc"},
        {"alg": "HS256"},
        {"alg": "ES256"},
        {"kty": "EC"},
        {"kid": None},
        {"kid": 1},
    ],
)
def test_keys_that_are_not_rs256_signing_keys_with_an_id_are_skipped(ion_key, overrides):
    keys = parse_jwks({"keys": [public_jwk(ion_key, **overrides)]})

    assert keys == {}


def test_entries_that_are_not_keys_are_skipped(ion_key):
    keys = parse_jwks({"keys": ["not a key", ["kid"], public_jwk(ion_key)]})

    assert list(keys) == [KID]


def test_an_unreadable_key_is_skipped_with_a_warning(ion_key, caplog):
    broken = public_jwk(ion_key, kid="broken", n="!!")

    with caplog.at_level(logging.WARNING, logger="ion_oauth"):
        keys = parse_jwks({"keys": [broken, public_jwk(ion_key)]})

    assert list(keys) == [KID]
    assert caplog.messages == ["Ignoring an unreadable key 'broken' in Ion's signing keys"]


# -- ID token claims --------------------------------------------------------------------


def claims(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {**load_fixture("id_token_claims.json")["claims"], **overrides}
    return {name: value for name, value in body.items() if value is not None}


@pytest.mark.parametrize("field", ["sub", "preferred_username"])
@pytest.mark.parametrize("value", [None, 1, "", " \t"])
def test_sub_and_preferred_username_must_be_non_blank_text(field, value):
    with pytest.raises(IonResponseError) as caught:
        parse_claims(claims(**{field: value}))

    assert caught.value.message == missing("ID token", field)
    assert caught.value.code == "missing_claim"
    assert caught.value.stage == "token_validation"


@pytest.mark.parametrize("field", ["given_name", "family_name", "name", "email"])
def test_optional_names_and_email_must_be_text_when_present(field):
    with pytest.raises(IonResponseError) as caught:
        parse_claims(claims(**{field: 5}), stage="refresh")

    assert caught.value.message == missing("ID token", field)
    assert caught.value.stage == "refresh"


@pytest.mark.parametrize("field", ["email_verified", "is_sysadmin"])
@pytest.mark.parametrize("value", ["true", 1, 0])
def test_flags_must_be_booleans_when_present(field, value):
    with pytest.raises(IonResponseError) as caught:
        parse_claims(claims(**{field: value}))

    assert caught.value.message == missing("ID token", field)


@pytest.mark.parametrize("groups", ["admins", ["admins", 1], [None]])
def test_groups_must_be_a_list_of_text(groups):
    with pytest.raises(IonResponseError) as caught:
        parse_claims(claims(groups=groups))

    assert caught.value.message == missing("ID token", "groups")


def test_only_sub_and_preferred_username_are_required():
    minimal = {"sub": "1", "preferred_username": "2027jdoe"}

    assert parse_claims(minimal) == minimal


def test_the_claims_are_returned_as_a_new_dict():
    original = claims(groups=["admins", "staff"], email_verified=True, is_sysadmin=False)

    parsed = parse_claims(original)

    assert parsed == original
    assert parsed is not original


# -- PyJWT's errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (jwt.ExpiredSignatureError(), ("has expired", "response_expired")),
        (jwt.ImmatureSignatureError(), ("is not valid yet", "response_not_yet_valid")),
        (jwt.InvalidAudienceError(), ("was issued to another application", "invalid_claim")),
        (
            jwt.InvalidIssuerError(),
            ("was issued by another server than this site's Ion", "invalid_claim"),
        ),
        (jwt.MissingRequiredClaimError("exp"), ("lacks a required claim", "missing_claim")),
        (jwt.InvalidSignatureError(), ("has an invalid signature", "invalid_signature")),
        (jwt.DecodeError(), ("could not be read", "malformed_response")),
        (jwt.InvalidTokenError(), ("could not be read", "malformed_response")),
    ],
)
def test_each_pyjwt_error_says_what_the_token_did_and_its_code(error, expected):
    assert describe_jwt_error(error) == expected


def test_an_invalid_id_token_error_is_logged_and_names_what_it_did(caplog):
    with caplog.at_level(logging.WARNING, logger="ion_oauth"):
        error = invalid_id_token(None, "has expired", "response_expired")  # type: ignore[arg-type]

    assert error.message == (
        "Ion's answer could not be verified: its ID token has expired. "
        "You were not logged in; please log in again."
    )
    assert error.code == "response_expired"
    assert error.stage == "token_validation"
    assert caplog.messages == ["Rejected an ID token from Ion: it has expired (response_expired)"]
    assert caplog.records[0].levelno == logging.WARNING


def test_an_unknown_key_error_logs_at_most_64_characters_of_the_key_id(caplog):
    kid = "k" * 64 + "-and-more"

    with caplog.at_level(logging.WARNING, logger="ion_oauth"):
        error = unknown_key(None, kid)  # type: ignore[arg-type]

    assert error.message == (
        "Ion's answer could not be verified: its ID token is signed with a key Ion does "
        "not publish. You were not logged in; please try again in a minute."
    )
    assert error.code == "invalid_signature"
    assert error.stage == "token_validation"
    assert caplog.messages == [
        f"Ion's ID token names signing key {'k' * 64!r}, which Ion does not publish"
    ]


# -- at_hash ----------------------------------------------------------------------------


def test_at_hash_is_the_left_half_of_the_sha256_unpadded():
    # SHA-256("abc") is FIPS 180-2's first example: ba7816bf 8f01cfea 414140de 5dae2223 ...
    left_half = bytes.fromhex("ba7816bf8f01cfea414140de5dae2223")

    assert at_hash("abc") == base64.urlsafe_b64encode(left_half).decode().rstrip("=")
    assert "=" not in at_hash("abc")


def test_at_hash_of_a_token_that_is_not_ascii_is_still_a_hash():
    assert at_hash("tök") == at_hash("t?k")


def test_a_base_url_ending_in_other_characters_is_kept_whole():
    base_url = f"{ION}/IX"
    body = discovery(issuer=f"{base_url}/oauth")

    assert parse_discovery(body, base_url=base_url + "/")["issuer"] == f"{base_url}/oauth"


def test_an_endpoint_without_a_host_is_refused():
    base_url = "https://xxxx"
    body = {
        "issuer": f"{base_url}/oauth",
        "authorization_endpoint": f"{base_url}/a",
        "token_endpoint": "https://:443/oauth/token/",
        "jwks_uri": f"{base_url}/k",
    }

    with pytest.raises(IonResponseError) as caught:
        parse_discovery(body, base_url=base_url)

    assert caught.value.message == away("token_endpoint", base_url)


# -- every refusal names the backend and the stage --------------------------------------


@pytest.mark.parametrize(
    "refuse",
    [
        lambda stage: parse_discovery(discovery(issuer=None), backend=BACKEND, stage=stage),
        lambda stage: parse_discovery(
            discovery(end_session_endpoint=5), backend=BACKEND, stage=stage
        ),
        lambda stage: parse_discovery(
            discovery(issuer="https://evil.example.test/oauth"),
            backend=BACKEND,
            stage=stage,
            base_url=ION,
        ),
        lambda stage: parse_jwks({}, backend=BACKEND, stage=stage),
        lambda stage: parse_claims(claims(sub=None), backend=BACKEND, stage=stage),
        lambda stage: parse_claims(claims(email=5), backend=BACKEND, stage=stage),
        lambda stage: parse_claims(claims(is_sysadmin="no"), backend=BACKEND, stage=stage),
        lambda stage: parse_claims(claims(groups="staff"), backend=BACKEND, stage=stage),
    ],
    ids=[
        "endpoint",
        "end-session",
        "away-from-ion",
        "keys",
        "required-claim",
        "text-claim",
        "flag-claim",
        "groups",
    ],
)
def test_a_refusal_names_the_backend_and_the_callers_stage(refuse):
    with pytest.raises(IonResponseError) as caught:
        refuse("auth_complete")

    assert caught.value.backend is BACKEND
    assert caught.value.stage == "auth_complete"


def test_id_token_errors_name_the_backend():
    assert invalid_id_token(BACKEND, "has expired", "response_expired").backend is BACKEND
    assert unknown_key(BACKEND, KID).backend is BACKEND
