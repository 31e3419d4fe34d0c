"""IonOpenIdConnect: the OpenID Connect login against Ion faked with ``responses``.

Ion's keys are an RSA key made here; ID tokens are signed with it the way Ion signs them
(RS256, ``kid`` in the header, the claims of tests/fixtures/ion/id_token_claims.json).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
import requests
import responses
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from ion_fakes import ION, assert_login_failed, load_fixture, messages_of
from social_django.models import DjangoStorage, UserSocialAuth
from social_django.strategy import DjangoStrategy
from social_django.utils import load_strategy

from ion_oauth import discovery as oidc_cache
from ion_oauth import oidc
from ion_oauth.claims import parse_claims, parse_discovery, parse_jwks
from ion_oauth.exceptions import IonAuthError, IonResponseError, IonUnavailable
from ion_oauth.oidc import IonOpenIdConnect
from ion_oauth.pipeline import associate_oauth2_user, sync_oidc_groups

pytestmark = pytest.mark.django_db

User = get_user_model()

CLIENT_ID = "test-oidc-client"
CLIENT_SECRET = "test-oidc-secret-long-enough-for-hs256-0123456789"
ISSUER = f"{ION}/oauth"
KID = "ion-key-1"
DISCOVERY_URL = f"{ION}/oauth/.well-known/openid-configuration/"
JWKS_URL = f"{ION}/oauth/.well-known/jwks.json"
TOKEN_URL = f"{ION}/oauth/token/"
ACCESS_TOKEN = load_fixture("token_response.json")["access_token"]


def rejected(what: str) -> str:
    return (
        f"Ion's answer could not be verified: its ID token {what}. "
        "You were not logged in; please log in again."
    )


UNKNOWN_KEY = (
    "Ion's answer could not be verified: its ID token is signed with a key Ion does not "
    "publish. You were not logged in; please try again in a minute."
)


@pytest.fixture(scope="module")
def ion_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(autouse=True)
def oidc_site(settings: Any) -> Any:
    """The test site with the OIDC backend added, and nothing cached from other tests."""
    settings.AUTHENTICATION_BACKENDS = [
        "ion_oauth.oauth.IonOauth2",
        "ion_oauth.oidc.IonOpenIdConnect",
        "django.contrib.auth.backends.ModelBackend",
    ]
    settings.SOCIAL_AUTH_ION_OIDC_KEY = CLIENT_ID
    settings.SOCIAL_AUTH_ION_OIDC_SECRET = CLIENT_SECRET
    settings.ROOT_URLCONF = "oidc.urls"
    oidc_cache.clear_cache()
    yield settings
    oidc_cache.clear_cache()


def public_jwk(key: rsa.RSAPrivateKey, kid: str = KID) -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


def discovery() -> dict[str, Any]:
    """Ion's recorded discovery document, moved to the test site's Ion."""
    text = json.dumps(load_fixture("oidc_discovery.json"))
    return json.loads(text.replace("http://127.0.0.1:8080", ION))  # type: ignore[no-any-return]


def at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


class FakeOidcIon:
    """Ion with OpenID Connect: discovery, keys, and a token endpoint that mints ID tokens."""

    def __init__(self, client: Any, mock: responses.RequestsMock, key: rsa.RSAPrivateKey):
        self.client = client
        self.mock = mock
        self.key = key
        self.discovery = mock.add(responses.GET, DISCOVERY_URL, json=discovery())
        self.jwks = mock.add(responses.GET, JWKS_URL, json={"keys": [public_jwk(key)]})

    def claims(self, nonce: str | None, **overrides: Any) -> dict[str, Any]:
        """The recorded student's claims, issued now for this client and nonce."""
        now = int(time.time())
        claims = {
            **load_fixture("id_token_claims.json")["claims"],
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "iat": now,
            "auth_time": now,
            "exp": now + 36000,
            "nonce": nonce,
            "at_hash": at_hash(ACCESS_TOKEN),
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def id_token(
        self,
        nonce: str | None,
        *,
        key: Any = None,
        algorithm: str = "RS256",
        kid: str | None = KID,
        **overrides: Any,
    ) -> str:
        headers = {"kid": kid} if kid else {}
        return jwt.encode(
            self.claims(nonce, **overrides),
            key if key is not None else self.key,
            algorithm=algorithm,
            headers=headers,
        )

    def begin(self) -> dict[str, str]:
        """Start a login; return the query parameters of the redirect to Ion."""
        response = self.client.post("/login/ion-oidc/")
        assert response.status_code == 302, response
        location = urlsplit(response["Location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == f"{ION}/oauth/authorize/"
        return dict(parse_qsl(location.query))

    def answer_token(self, id_token: str | None, status: int = 200) -> None:
        body = dict(load_fixture("token_response.json"), scope="openid profile email groups read")
        if id_token is not None:
            body["id_token"] = id_token
        self.mock.add(responses.POST, TOKEN_URL, json=body, status=status)

    def callback(self, state: str) -> Any:
        return self.client.get("/complete/ion-oidc/", {"code": "the-code", "state": state})

    def login(self, **token_options: Any) -> Any:
        """A whole login; Ion's ID token carries the login's nonce unless told otherwise."""
        params = self.begin()
        token_options.setdefault("nonce", params["nonce"])
        self.answer_token(self.id_token(**token_options))
        return self.callback(params["state"])

    def calls_to(self, url: str) -> int:
        return sum(1 for call in self.mock.calls if call.request.url == url)


@pytest.fixture
def ion(client: Any, fake_ion: responses.RequestsMock, ion_key: rsa.RSAPrivateKey) -> FakeOidcIon:
    return FakeOidcIon(client, fake_ion, ion_key)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The clock the caches read; tests move it forward with ``clock[0] += seconds``."""
    now = [1000.0]
    monkeypatch.setattr(oidc_cache, "_clock", lambda: now[0])
    return now


# -- beginning a login ------------------------------------------------------------------


def test_begin_redirects_to_the_authorization_endpoint_that_discovery_names(ion):
    params = ion.begin()

    assert params["client_id"] == CLIENT_ID
    assert params["response_type"] == "code"
    assert params["redirect_uri"] == "http://testserver/complete/ion-oidc/"


def test_begin_asks_for_openid_and_the_claims_scopes(ion):
    params = ion.begin()

    assert params["scope"] == "openid profile email groups read"


def test_openid_is_asked_even_when_the_scope_setting_leaves_it_out(ion, settings):
    settings.SOCIAL_AUTH_ION_OIDC_IGNORE_DEFAULT_SCOPE = True
    settings.SOCIAL_AUTH_ION_OIDC_SCOPE = ["profile"]

    assert ion.begin()["scope"] == "openid profile"


def test_begin_sends_a_fresh_nonce_and_an_s256_pkce_challenge(ion):
    first, second = ion.begin(), ion.begin()

    assert len(first["nonce"]) == 32
    assert first["nonce"] != second["nonce"]
    assert first["code_challenge_method"] == "S256"


def test_the_token_request_carries_the_oidc_client_and_the_pkce_verifier(ion):
    params = ion.begin()
    ion.answer_token(ion.id_token(params["nonce"]))

    ion.callback(params["state"])

    token_call = next(c for c in ion.mock.calls if c.request.url == TOKEN_URL)
    sent = dict(parse_qsl(token_call.request.body))
    digest = hashlib.sha256(sent["code_verifier"].encode()).digest()
    assert base64.urlsafe_b64encode(digest).decode().rstrip("=") == params["code_challenge"]
    assert (sent["client_id"], sent["client_secret"]) == (CLIENT_ID, CLIENT_SECRET)
    assert sent["redirect_uri"] == "http://testserver/complete/ion-oidc/"


def test_ion_unreachable_at_begin_is_a_clear_message(client, fake_ion):
    fake_ion.add(responses.GET, DISCOVERY_URL, body=requests.ConnectionError("refused"))

    response = client.post("/login/ion-oidc/")

    assert_login_failed(response, "Ion could not be reached. Please try again in a few minutes.")


@pytest.mark.parametrize(
    "field", ["issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"]
)
def test_a_discovery_document_without_an_endpoint_is_a_clear_message(client, fake_ion, field):
    body = {**discovery(), field: "not a url"}
    fake_ion.add(responses.GET, DISCOVERY_URL, json=body)

    response = client.post("/login/ion-oidc/")

    assert_login_failed(
        response,
        f"Ion's OpenID configuration has a missing or invalid '{field}' field. "
        "Please try again later or tell the site's administrator.",
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("token_endpoint", "https://evil.example.test/oauth/token/"),
        ("token_endpoint", ION.replace("https://", "http://") + "/oauth/token/"),
        ("token_endpoint", ION + ":8443/oauth/token/"),
        ("authorization_endpoint", "https://evil.example.test/oauth/authorize/"),
        ("jwks_uri", "https://evil.example.test/jwks.json"),
        ("end_session_endpoint", "https://evil.example.test/logout/"),
        ("issuer", "https://evil.example.test/oauth"),
        ("issuer", ION),
        ("issuer", ION + "/o"),
    ],
)
def test_a_discovery_document_pointing_away_from_ion_is_refused(client, fake_ion, field, value):
    """Guards against the discovery document sending the client secret to another server."""
    fake_ion.add(responses.GET, DISCOVERY_URL, json={**discovery(), field: value})

    response = client.post("/login/ion-oidc/")

    assert_login_failed(
        response,
        f"Ion's OpenID configuration points its '{field}' away from {ION}, so this site did "
        "not use it. You were not logged in; please tell the site's administrator.",
    )


def test_a_discovery_document_on_ions_host_with_its_default_port_is_accepted():
    body = {**discovery(), "token_endpoint": ION + ":443/oauth/token/", "issuer": ION + "/oauth/"}

    config = parse_discovery(body, base_url=ION + "/")

    assert config["token_endpoint"] == ION + ":443/oauth/token/"


# -- settings ---------------------------------------------------------------------------


def backend() -> IonOpenIdConnect:
    return IonOpenIdConnect(load_strategy())


def test_base_url_comes_from_the_oauth2_backends_setting_by_default():
    assert backend().discovery_url() == DISCOVERY_URL


def test_an_oidc_base_url_setting_wins_over_the_shared_one(settings):
    settings.SOCIAL_AUTH_ION_OIDC_BASE_URL = "https://oidc.example.test/"

    assert backend().discovery_url() == (
        "https://oidc.example.test/oauth/.well-known/openid-configuration/"
    )


def test_a_sites_own_base_url_setting_is_not_taken_for_ions(settings):
    """Guards against social-auth's lookup falling back to a bare ``BASE_URL``."""
    del settings.SOCIAL_AUTH_ION_BASE_URL
    settings.BASE_URL = "https://my-site.example.test"

    assert backend().discovery_url() == (
        "https://ion.tjhsst.edu/oauth/.well-known/openid-configuration/"
    )


def test_timeout_falls_back_to_the_shared_setting(settings):
    settings.SOCIAL_AUTH_ION_TIMEOUT = 3

    assert backend().timeout() == 3.0


def test_client_credentials_are_the_oidc_ones_never_the_oauth2_ones(settings):
    del settings.SOCIAL_AUTH_ION_OIDC_KEY

    assert backend().get_key_and_secret() == (None, CLIENT_SECRET)


# -- a successful login -----------------------------------------------------------------


def test_a_student_logs_in_and_gets_a_user_from_the_id_token_claims(ion):
    response = ion.login()

    assert response.status_code == 302
    assert response["Location"] == "/"
    user = User.objects.get()
    assert (user.username, user.email) == ("2027jdoe", "2027jdoe@tjhsst.edu")
    social = UserSocialAuth.objects.get()
    assert (social.provider, social.uid) == ("ion-oidc", "1")


def test_names_come_from_the_claims_through_social_cores_user_details_step(ion, settings):
    settings.SOCIAL_AUTH_PIPELINE = [
        *settings.SOCIAL_AUTH_PIPELINE,
        "social_core.pipeline.user.user_details",
    ]

    ion.login()

    user = User.objects.get()
    assert (user.first_name, user.last_name) == ("John", "Doe")


def test_the_first_login_asks_ion_for_discovery_token_and_keys_and_no_profile(ion):
    ion.login()

    assert [call.request.url for call in ion.mock.calls] == [DISCOVERY_URL, TOKEN_URL, JWKS_URL]


def test_discovery_and_keys_are_cached_so_a_second_login_costs_one_request(ion, client):
    ion.login()
    client.logout()
    before = len(ion.mock.calls)

    response = ion.login()

    assert response["Location"] == "/"
    assert [call.request.url for call in ion.mock.calls[before:]] == [TOKEN_URL]


def test_discovery_is_fetched_again_after_a_day(ion, client, clock):
    ion.login()
    client.logout()
    clock[0] += oidc_cache.DISCOVERY_LIFETIME + 1

    ion.begin()

    assert ion.calls_to(DISCOVERY_URL) == 2


def test_keys_are_fetched_again_after_their_lifetime(ion, client, clock):
    ion.login()
    client.logout()
    clock[0] += oidc_cache.KEYS_LIFETIME + 1

    ion.login()

    assert ion.calls_to(JWKS_URL) == 2


def test_extra_data_keeps_the_id_token_tokens_and_ion_fields(ion):
    ion.login()

    extra = UserSocialAuth.objects.get().extra_data
    assert extra["id_token"].count(".") == 2
    assert extra["access_token"] == ACCESS_TOKEN
    assert extra["refresh_token"] == load_fixture("token_response.json")["refresh_token"]
    assert extra["expires"] == 36000
    assert (extra["ion_username"], extra["display_name"]) == ("2027jdoe", "John Doe")
    assert (extra["groups"], extra["is_sysadmin"]) == ([], False)


def test_an_email_ion_says_is_unverified_is_not_copied(ion):
    ion.login(email_verified=False)

    assert User.objects.get().email == ""


def test_an_email_ion_does_not_say_is_verified_is_not_copied(ion):
    """Guards against a missing email_verified claim being taken as verified."""
    ion.login(email_verified=None)

    assert User.objects.get().email == ""


def test_an_email_ion_says_is_verified_is_copied(ion):
    ion.login(email_verified=True)

    assert User.objects.get().email == "2027jdoe@tjhsst.edu"


def test_user_details_are_the_names_the_claims_give():
    claims = {**load_fixture("id_token_claims.json")["claims"], "email_verified": True}

    assert backend().get_user_details(claims) == {
        "username": "2027jdoe",
        "email": "2027jdoe@tjhsst.edu",
        "fullname": "John Doe",
        "first_name": "John",
        "last_name": "Doe",
    }


def test_user_details_are_empty_for_names_the_claims_lack():
    claims = {"sub": "1", "preferred_username": "2027jdoe"}

    assert backend().get_user_details(claims) == {
        "username": "2027jdoe",
        "email": "",
        "fullname": "",
        "first_name": "",
        "last_name": "",
    }


def test_a_token_without_at_hash_is_accepted(ion):
    ion.login(at_hash=None)

    assert User.objects.count() == 1


def test_logging_in_again_reuses_the_same_user(ion, client):
    ion.login()
    client.logout()

    ion.login(given_name="Johnny")

    assert User.objects.count() == 1
    assert UserSocialAuth.objects.count() == 1


def test_a_refresh_stores_the_new_tokens_and_id_token_and_keeps_the_ion_fields(ion):
    ion.login()
    social = UserSocialAuth.objects.get()
    new_id_token = ion.id_token("ignored-on-refresh")
    ion.mock.add(
        responses.POST,
        TOKEN_URL,
        json={
            "access_token": "new-access",
            "refresh_token": "new-refresh",
            "expires_in": 36000,
            "token_type": "Bearer",
            "scope": "openid profile email groups read",
            "id_token": new_id_token,
        },
    )

    social.refresh_token(load_strategy())

    social.refresh_from_db()
    assert (social.extra_data["access_token"], social.extra_data["refresh_token"]) == (
        "new-access",
        "new-refresh",
    )
    assert social.extra_data["id_token"] == new_id_token
    assert social.extra_data["ion_username"] == "2027jdoe"
    sent = dict(parse_qsl(ion.mock.calls[-1].request.body))
    assert (sent["grant_type"], sent["client_id"]) == ("refresh_token", CLIENT_ID)


# -- ID tokens that are refused ---------------------------------------------------------


def test_a_bad_signature_is_refused(ion, other_key):
    assert_login_failed(ion.login(key=other_key), rejected("has an invalid signature"))


def test_a_wrong_audience_is_refused(ion):
    response = ion.login(aud="another-application")

    assert_login_failed(response, rejected("was issued to another application"))


def test_an_authorized_party_other_than_this_client_is_refused(ion):
    response = ion.login(aud=[CLIENT_ID, "another"], azp="another")

    assert_login_failed(response, rejected("was issued to another application"))


def test_several_audiences_without_an_authorized_party_are_refused(ion):
    """Guards against a token meant for another application that also names this one."""
    response = ion.login(aud=[CLIENT_ID, "another"])

    assert_login_failed(response, rejected("was issued to another application"))


def test_several_audiences_with_this_client_as_authorized_party_are_accepted(ion):
    ion.login(aud=[CLIENT_ID, "another"], azp=CLIENT_ID)

    assert User.objects.count() == 1


def test_one_audience_in_a_list_without_an_authorized_party_is_accepted(ion):
    ion.login(aud=[CLIENT_ID])

    assert User.objects.count() == 1


def test_a_wrong_issuer_is_refused(ion):
    response = ion.login(iss="https://evil.example.test/oauth")

    assert_login_failed(response, rejected("was issued by another server than this site's Ion"))


def test_an_expired_token_is_refused(ion):
    now = int(time.time())
    response = ion.login(iat=now - 7200, exp=now - oidc.LEEWAY - 1)

    assert_login_failed(response, rejected("has expired"))


def test_a_token_expired_within_the_clock_leeway_is_accepted(ion):
    ion.login(exp=int(time.time()) - oidc.LEEWAY + 10)

    assert User.objects.count() == 1


def test_a_token_not_valid_yet_is_refused(ion):
    response = ion.login(nbf=int(time.time()) + 3600)

    assert_login_failed(response, rejected("is not valid yet"))


def test_a_token_without_expiry_is_refused(ion):
    response = ion.login(exp=None)

    assert_login_failed(response, rejected("lacks a required claim"))


def test_a_token_without_nonce_is_refused(ion):
    params = ion.begin()
    ion.answer_token(ion.id_token(None))

    assert_login_failed(ion.callback(params["state"]), rejected("does not belong to this login"))


def test_a_token_replayed_from_an_earlier_login_is_refused(ion, client):
    """Guards against an ID token (and its nonce) captured once being used to log in again."""
    earlier = ion.begin()
    replayed = ion.id_token(earlier["nonce"])
    ion.answer_token(replayed)
    ion.callback(earlier["state"])
    client.logout()
    User.objects.all().delete()

    params = ion.begin()
    ion.answer_token(replayed)

    assert_login_failed(ion.callback(params["state"]), rejected("does not belong to this login"))


def test_a_token_for_another_tabs_login_is_refused(ion):
    other_tab = ion.begin()
    params = ion.begin()
    ion.answer_token(ion.id_token(other_tab["nonce"]))

    assert_login_failed(ion.callback(params["state"]), rejected("does not belong to this login"))


def test_an_at_hash_of_another_access_token_is_refused(ion):
    response = ion.login(at_hash=at_hash("another-access-token"))

    assert_login_failed(response, rejected("does not match its access token"))


def test_an_hs256_token_signed_with_the_client_secret_is_refused(ion):
    """Guards against algorithm confusion: Ion offers HS256, this site only trusts RS256."""
    response = ion.login(key=CLIENT_SECRET, algorithm="HS256")

    assert_login_failed(response, rejected("is not signed the way Ion signs"))


def test_an_unsigned_token_is_refused(ion):
    response = ion.login(key="", algorithm="none")

    assert_login_failed(response, rejected("is not signed the way Ion signs"))


def test_a_token_without_key_id_is_refused(ion):
    assert_login_failed(ion.login(kid=None), rejected("is not signed the way Ion signs"))


def test_a_token_that_is_not_a_jwt_is_refused(ion):
    params = ion.begin()
    ion.answer_token("not-a-jwt")

    assert_login_failed(ion.callback(params["state"]), rejected("could not be read"))


def test_a_token_with_an_undecodable_body_is_refused(ion):
    params = ion.begin()
    header, _body, signature = ion.id_token(params["nonce"]).split(".")
    ion.answer_token(f"{header}.!!!.{signature}")

    assert_login_failed(ion.callback(params["state"]), rejected("could not be read"))


def test_a_token_with_an_unreadable_claim_is_refused(ion):
    assert_login_failed(ion.login(iat="yesterday"), rejected("could not be read"))


def test_a_token_response_without_id_token_names_the_likely_cause(ion):
    params = ion.begin()
    ion.answer_token(None)

    assert_login_failed(
        ion.callback(params["state"]),
        "Ion's answer carried no ID token: the application on Ion may not have OpenID "
        "Connect enabled. Please tell the site's administrator.",
    )


def test_a_token_without_preferred_username_names_the_claim(ion):
    response = ion.login(preferred_username=None)

    assert_login_failed(
        response,
        "Ion's ID token has a missing or invalid 'preferred_username' field. "
        "Please try again later or tell the site's administrator.",
    )


def test_refusals_are_logged_on_the_ion_oauth_logger(ion, other_key, caplog):
    ion.login(key=other_key)

    assert "Rejected an ID token from Ion: it has an invalid signature" in caplog.text


# -- what a refused login tells the site's code ----------------------------------------


@pytest.fixture
def raising(settings: Any) -> Any:
    """The test site without SocialAuthExceptionMiddleware: a login's error reaches the caller,
    as it reaches a site's own middleware or error handler."""
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "SocialAuthException" not in m]
    return settings


def login_error(ion: FakeOidcIon, id_token: Callable[[str], str | None]) -> IonAuthError:
    """The error a login raises when Ion's token response carries ``id_token(nonce)``."""
    params = ion.begin()
    ion.answer_token(id_token(params["nonce"]))
    with pytest.raises(IonAuthError) as caught:
        ion.callback(params["state"])
    return caught.value


def expired(ion: FakeOidcIon, nonce: str) -> str:
    now = int(time.time())
    return ion.id_token(nonce, iat=now - 7200, exp=now - oidc.LEEWAY - 1)


def with_empty_key_id(ion: FakeOidcIon, nonce: str) -> str:
    return jwt.encode(ion.claims(nonce), ion.key, algorithm="RS256", headers={"kid": ""})


@pytest.mark.parametrize(
    ("id_token", "what", "code"),
    [
        pytest.param(
            lambda ion, nonce: "not-a-jwt", "could not be read", "malformed_response", id="not-jwt"
        ),
        pytest.param(
            lambda ion, nonce: ion.id_token(nonce, key=CLIENT_SECRET, algorithm="HS256"),
            "is not signed the way Ion signs",
            "invalid_signature",
            id="hs256",
        ),
        pytest.param(
            with_empty_key_id,
            "is not signed the way Ion signs",
            "invalid_signature",
            id="kid-empty",
        ),
        pytest.param(expired, "has expired", "response_expired", id="expired"),
        pytest.param(
            lambda ion, nonce: ion.id_token(nonce, aud=[CLIENT_ID, "another"], azp="another"),
            "was issued to another application",
            "invalid_claim",
            id="azp",
        ),
        pytest.param(
            lambda ion, nonce: ion.id_token("another-logins-nonce"),
            "does not belong to this login",
            "nonce_mismatch",
            id="nonce",
        ),
        pytest.param(
            lambda ion, nonce: ion.id_token(nonce, at_hash=at_hash("another-access-token")),
            "does not match its access token",
            "invalid_claim",
            id="at-hash",
        ),
    ],
)
@pytest.mark.usefixtures("raising")
def test_a_refused_id_token_raises_and_logs_its_code_at_the_token_validation_stage(
    ion, caplog, id_token, what, code
):
    error = login_error(ion, lambda nonce: id_token(ion, nonce))

    assert isinstance(error, IonResponseError)
    assert (str(error), error.code, error.stage) == (rejected(what), code, "token_validation")
    assert error.backend.name == "ion-oidc"
    assert f"Rejected an ID token from Ion: it {what} ({code})" in caplog.messages


def test_a_token_response_without_id_token_raises_missing_claim(ion, raising):
    error = login_error(ion, lambda nonce: None)

    assert isinstance(error, IonResponseError)
    assert (error.code, error.stage, error.backend.name) == (
        "missing_claim",
        "token_validation",
        "ion-oidc",
    )


def test_an_id_token_that_is_not_a_string_counts_as_none(ion):
    params = ion.begin()
    body = dict(load_fixture("token_response.json"), id_token=12345)
    ion.mock.add(responses.POST, TOKEN_URL, json=body)

    assert_login_failed(
        ion.callback(params["state"]),
        "Ion's answer carried no ID token: the application on Ion may not have OpenID "
        "Connect enabled. Please tell the site's administrator.",
    )


def test_a_claim_refused_after_verification_names_the_backend(ion, raising):
    error = login_error(ion, lambda nonce: ion.id_token(nonce, preferred_username=None))

    assert (error.code, error.stage, error.backend.name) == (
        "missing_claim",
        "token_validation",
        "ion-oidc",
    )


def test_an_id_token_checked_outside_any_login_does_not_belong_to_it(ion):
    """A backend that began no login has no nonce an ID token could carry."""
    with pytest.raises(IonResponseError) as caught:
        backend().verify_id_token(ion.id_token("some-nonce"), ACCESS_TOKEN)

    assert (str(caught.value), caught.value.code) == (
        rejected("does not belong to this login"),
        "nonce_mismatch",
    )


# -- Ion unreachable: each step fails with its own stage --------------------------------


def unreachable(mock: responses.RequestsMock, url: str) -> None:
    mock.replace(responses.GET, url, body=requests.ConnectionError("refused"))


@pytest.mark.parametrize(
    ("step", "stage"),
    [
        pytest.param(lambda b: b.authorization_url(), "begin", id="authorization_url"),
        pytest.param(lambda b: b.access_token_url(), "token_exchange", id="access_token_url"),
        pytest.param(lambda b: b.signing_key(KID), "token_validation", id="signing_key"),
        pytest.param(lambda b: b.end_session_url("an-id-token"), "unknown", id="end_session"),
        pytest.param(lambda b: b.oidc_config(), "unknown", id="oidc_config"),
    ],
)
def test_discovery_failing_raises_at_the_stage_of_the_step_that_needed_it(ion, step, stage):
    unreachable(ion.mock, DISCOVERY_URL)

    with pytest.raises(IonUnavailable) as caught:
        step(backend())

    assert (caught.value.stage, caught.value.backend.name) == (stage, "ion-oidc")


def test_keys_failing_raise_at_the_token_validation_stage(ion):
    unreachable(ion.mock, JWKS_URL)

    with pytest.raises(IonUnavailable) as caught:
        backend().signing_key(KID)

    assert caught.value.stage == "token_validation"


def test_discovery_expiring_while_the_keys_are_fetched_is_refetched_for_the_issuer(
    ion, raising, clock
):
    """The document is read for the keys' URL, then for the issuer: the second read
    fetches it again if it expired meanwhile, and a failure then is token validation's."""

    def keys_arriving_a_day_later(request: Any) -> tuple[int, dict[str, str], str]:
        clock[0] += oidc_cache.DISCOVERY_LIFETIME
        return 200, {}, json.dumps({"keys": [public_jwk(ion.key)]})

    ion.mock.replace(
        responses.CallbackResponse(responses.GET, JWKS_URL, callback=keys_arriving_a_day_later)
    )
    params = ion.begin()
    ion.answer_token(ion.id_token(params["nonce"]))
    unreachable(ion.mock, DISCOVERY_URL)

    with pytest.raises(IonUnavailable) as caught:
        ion.callback(params["state"])

    assert caught.value.stage == "token_validation"
    assert ion.calls_to(DISCOVERY_URL) == 2


# -- key rotation -----------------------------------------------------------------------


def test_an_unknown_key_id_refetches_the_keys_once_then_is_refused(ion, client, clock):
    ion.login()
    client.logout()
    clock[0] += oidc_cache.KEY_REFETCH_INTERVAL + 1

    response = ion.login(kid="unknown-key")

    assert_login_failed_keeping_users(response, UNKNOWN_KEY)
    assert ion.calls_to(JWKS_URL) == 2


def test_another_unknown_key_id_soon_after_does_not_refetch(ion, client, clock):
    """Guards against forged tokens turning every login into a key fetch at Ion."""
    ion.login()
    client.logout()
    clock[0] += oidc_cache.KEY_REFETCH_INTERVAL + 1
    ion.login(kid="unknown-key")
    client.get("/login-error/")
    clock[0] += 1

    response = ion.login(kid="another-unknown-key")

    assert_login_failed_keeping_users(response, UNKNOWN_KEY)
    assert ion.calls_to(JWKS_URL) == 2


def test_an_unknown_key_id_right_after_the_first_fetch_is_refused_without_refetch(ion):
    response = ion.login(kid="unknown-key")

    assert_login_failed(response, UNKNOWN_KEY)
    assert ion.calls_to(JWKS_URL) == 1


def test_a_key_ion_rotated_in_is_found_by_the_refetch(ion, client, clock, other_key):
    ion.login()
    client.logout()
    clock[0] += oidc_cache.KEY_REFETCH_INTERVAL + 1
    ion.mock.replace(
        responses.GET,
        JWKS_URL,
        json={"keys": [public_jwk(ion.key), public_jwk(other_key, "ion-key-2")]},
    )

    response = ion.login(key=other_key, kid="ion-key-2")

    assert response["Location"] == "/"


def assert_login_failed_keeping_users(response: Any, message: str) -> None:
    """Like assert_login_failed, after an earlier successful login made one user."""
    assert response["Location"] == "/login-error/"
    assert messages_of(response) == [message]
    assert User.objects.count() == 1


def test_keys_ion_sends_without_keys_is_a_clear_message(ion):
    ion.mock.replace(responses.GET, JWKS_URL, json={"not": "keys"})

    assert_login_failed(
        ion.login(),
        "Ion's signing keys has a missing or invalid 'keys' field. "
        "Please try again later or tell the site's administrator.",
    )


def test_parse_jwks_keeps_only_rs256_signing_keys_with_an_id(ion_key):
    good = public_jwk(ion_key)
    keys = [
        good,
        {**good, "kid": "enc", "use": "enc"},
        {**good, "kid": "es", "alg": "ES256"},
        {"kty": "oct", "kid": "secret", "k": "c2VjcmV0"},
        {**good, "kid": None},
        "not a key",
        {**good, "kid": "broken", "n": "!!"},
    ]

    assert list(parse_jwks({"keys": keys})) == [KID]


# -- the discovery document -------------------------------------------------------------


def test_parse_discovery_keeps_the_endpoints_and_end_session():
    config = parse_discovery(discovery())

    assert config == {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ION}/oauth/authorize/",
        "token_endpoint": TOKEN_URL,
        "jwks_uri": JWKS_URL,
        "end_session_endpoint": f"{ION}/oauth/logout/",
    }


def test_parse_discovery_accepts_no_end_session_endpoint():
    body = discovery()
    del body["end_session_endpoint"]

    assert "end_session_endpoint" not in parse_discovery(body)


def test_parse_discovery_refuses_an_end_session_endpoint_that_is_not_a_url():
    with pytest.raises(IonResponseError, match="'end_session_endpoint'"):
        parse_discovery({**discovery(), "end_session_endpoint": 42})


# -- claims -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sub", 1),
        ("sub", ""),
        ("preferred_username", "  "),
        ("given_name", 5),
        ("email", ["a@b"]),
        ("email_verified", "yes"),
        ("is_sysadmin", 1),
        ("groups", "admins"),
        ("groups", [1]),
    ],
)
def test_parse_claims_refuses_a_claim_of_the_wrong_type(field, value):
    claims = {**load_fixture("id_token_claims.json")["claims"], field: value}

    with pytest.raises(IonResponseError, match=f"'{field}'"):
        parse_claims(claims)


def test_parse_claims_accepts_the_recorded_claims_and_userinfo():
    assert parse_claims(load_fixture("id_token_claims.json")["claims"])["sub"] == "1"
    assert parse_claims(load_fixture("userinfo_student.json"))["groups"] == []


# -- pipeline: groups and is_sysadmin ---------------------------------------------------


def claims_with(**overrides: Any) -> dict[str, Any]:
    return {**load_fixture("id_token_claims.json")["claims"], **overrides}


def group_names(user: Any) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def test_sync_oidc_groups_puts_the_user_in_the_mapped_groups(settings):
    settings.SOCIAL_AUTH_ION_OIDC_GROUP_MAP = {"admin_all": "Admins", "lab": "Lab users"}
    user = User.objects.create(username="2027jdoe")

    sync_oidc_groups(backend(), {}, claims_with(groups=["lab", "unmapped"]), user)

    assert group_names(user) == {"Lab users"}


def test_sync_oidc_groups_removes_mapped_groups_ion_no_longer_lists_and_keeps_others(settings):
    settings.SOCIAL_AUTH_ION_OIDC_GROUP_MAP = {"admin_all": "Admins", "lab": "Lab users"}
    user = User.objects.create(username="2027jdoe")
    user.groups.add(
        *(Group.objects.create(name=n) for n in ("Admins", "Lab users", "Site editors"))
    )

    sync_oidc_groups(backend(), {}, claims_with(groups=["lab"]), user)

    assert group_names(user) == {"Lab users", "Site editors"}


def test_sync_oidc_groups_without_a_map_touches_no_group():
    user = User.objects.create(username="2027jdoe")
    user.groups.add(Group.objects.create(name="Admins"))

    sync_oidc_groups(backend(), {}, claims_with(groups=["lab"]), user)

    assert group_names(user) == {"Admins"}


def test_is_sysadmin_leaves_is_superuser_alone_unless_a_setting_asks():
    user = User.objects.create(username="2027jdoe", is_superuser=True)

    sync_oidc_groups(backend(), {}, claims_with(is_sysadmin=False), user)

    user.refresh_from_db()
    assert user.is_superuser is True


@pytest.mark.parametrize(("is_sysadmin", "was"), [(True, False), (False, True), (True, True)])
def test_is_sysadmin_sets_and_clears_is_superuser_when_the_setting_asks(settings, is_sysadmin, was):
    settings.SOCIAL_AUTH_ION_OIDC_SYSADMIN_IS_SUPERUSER = True
    user = User.objects.create(username="2027jdoe", is_superuser=was)

    sync_oidc_groups(backend(), {}, claims_with(is_sysadmin=is_sysadmin), user)

    user.refresh_from_db()
    assert user.is_superuser is is_sysadmin


def test_is_sysadmin_saves_only_is_superuser(settings):
    """Guards against a login undoing a change made to the user while it ran."""
    settings.SOCIAL_AUTH_ION_OIDC_SYSADMIN_IS_SUPERUSER = True
    user = User.objects.create(username="2027jdoe")
    User.objects.filter(pk=user.pk).update(first_name="John")

    sync_oidc_groups(backend(), {}, claims_with(is_sysadmin=True), user)

    user.refresh_from_db()
    assert (user.is_superuser, user.first_name) == (True, "John")


def test_sync_oidc_groups_does_nothing_for_other_backends(settings):
    settings.SOCIAL_AUTH_ION_OIDC_GROUP_MAP = {"lab": "Lab users"}
    settings.SOCIAL_AUTH_ION_SYSADMIN_IS_SUPERUSER = True
    user = User.objects.create(username="2027jdoe")
    oauth2 = load_strategy().get_backend("ion")

    sync_oidc_groups(oauth2, {}, claims_with(groups=["lab"], is_sysadmin=True), user)

    assert (group_names(user), user.is_superuser) == (set(), False)


def test_sync_oidc_groups_does_nothing_without_a_user():
    assert sync_oidc_groups(backend(), {}, claims_with(), None) is None


def test_a_login_runs_sync_oidc_groups_from_the_pipeline(ion, settings):
    settings.SOCIAL_AUTH_PIPELINE = [
        *settings.SOCIAL_AUTH_PIPELINE,
        "ion_oauth.pipeline.sync_oidc_groups",
    ]
    settings.SOCIAL_AUTH_ION_OIDC_GROUP_MAP = {"lab": "Lab users"}

    ion.login(groups=["lab"])

    assert group_names(User.objects.get()) == {"Lab users"}


# -- pipeline: moving from the OAuth2 backend -------------------------------------------


def test_associate_oauth2_user_finds_the_user_who_logged_in_with_oauth2():
    user = User.objects.create(username="2027jdoe")
    UserSocialAuth.objects.create(user=user, provider="ion", uid="1")

    assert associate_oauth2_user(backend(), "1") == {"user": user}


@pytest.mark.parametrize("oidc_base_url", ["https://sandbox.example.test", "http://127.0.0.1:8080"])
def test_associate_oauth2_user_links_nobody_when_the_backends_use_different_ions(
    settings, caplog, oidc_base_url
):
    """Guards against another Ion's (a sandbox's) sub=1 logging in as this Ion's user 1."""
    settings.SOCIAL_AUTH_ION_OIDC_BASE_URL = oidc_base_url
    UserSocialAuth.objects.create(
        user=User.objects.create(username="2027jdoe"), provider="ion", uid="1"
    )

    assert associate_oauth2_user(backend(), "1") is None
    assert caplog.messages == [
        "Not linking an OpenID Connect login to an OAuth2 user: the backends use different "
        f"Ions ({oidc_base_url} and {ION})"
    ]


def test_associate_oauth2_user_links_when_the_oidc_base_url_names_the_same_ion(settings):
    settings.SOCIAL_AUTH_ION_OIDC_BASE_URL = ION + "/"
    user = User.objects.create(username="2027jdoe")
    UserSocialAuth.objects.create(user=user, provider="ion", uid="1")

    assert associate_oauth2_user(backend(), "1") == {"user": user}


class SandboxStrategy(DjangoStrategy):
    """A strategy that configures each login (as a site per host would): this one's Ion
    is a sandbox."""

    def get_setting(self, name: str) -> Any:
        if name == "SOCIAL_AUTH_ION_BASE_URL":
            return "http://127.0.0.1:8080"
        return super().get_setting(name)


def test_associate_oauth2_user_reads_both_ions_from_the_logins_own_strategy():
    user = User.objects.create(username="2027jdoe")
    UserSocialAuth.objects.create(user=user, provider="ion", uid="1")

    oidc_backend = IonOpenIdConnect(SandboxStrategy(DjangoStorage))

    assert associate_oauth2_user(oidc_backend, "1") == {"user": user}


def test_associate_oauth2_user_finds_nobody_for_a_new_person():
    assert associate_oauth2_user(backend(), "1") is None


def test_associate_oauth2_user_leaves_an_already_found_user_alone():
    user = User.objects.create(username="someone")
    UserSocialAuth.objects.create(
        user=User.objects.create(username="2027jdoe"), provider="ion", uid="1"
    )

    assert associate_oauth2_user(backend(), "1", user) is None


def test_associate_oauth2_user_does_nothing_for_other_backends():
    UserSocialAuth.objects.create(
        user=User.objects.create(username="2027jdoe"), provider="ion", uid="1"
    )

    assert associate_oauth2_user(load_strategy().get_backend("ion"), "1") is None


def test_a_site_moving_to_oidc_keeps_each_persons_user(ion, settings):
    pipeline = list(settings.SOCIAL_AUTH_PIPELINE)
    pipeline.insert(
        pipeline.index("social_core.pipeline.social_auth.social_user") + 1,
        "ion_oauth.pipeline.associate_oauth2_user",
    )
    settings.SOCIAL_AUTH_PIPELINE = pipeline
    user = User.objects.create(username="2027jdoe")
    UserSocialAuth.objects.create(user=user, provider="ion", uid="1")

    ion.login()

    assert User.objects.get() == user
    assert set(user.social_auth.values_list("provider", flat=True)) == {"ion", "ion-oidc"}


# -- logging out at Ion -----------------------------------------------------------------


def logout_target(response: Any) -> tuple[str, dict[str, str]]:
    location = urlsplit(response["Location"])
    return f"{location.scheme}://{location.netloc}{location.path}", dict(parse_qsl(location.query))


def test_logout_ends_the_session_here_and_sends_the_browser_to_ions_end_session(ion, client):
    ion.login()
    id_token = UserSocialAuth.objects.get().extra_data["id_token"]

    response = client.post("/logout/ion/")

    assert logout_target(response) == (
        f"{ION}/oauth/logout/",
        {
            "client_id": CLIENT_ID,
            "id_token_hint": id_token,
            "post_logout_redirect_uri": "http://testserver/",
        },
    )
    assert client.get("/").content == b"home: anonymous"


def test_logout_returns_to_logout_redirect_url(ion, client, settings):
    settings.LOGOUT_REDIRECT_URL = "/login/"
    ion.login()

    response = client.post("/logout/ion/")

    assert logout_target(response)[1]["post_logout_redirect_uri"] == "http://testserver/login/"


def test_logout_uses_the_post_logout_redirect_uri_setting(ion, client, settings):
    settings.SOCIAL_AUTH_ION_OIDC_POST_LOGOUT_REDIRECT_URI = "https://site.example.test/bye/"
    ion.login()

    response = client.post("/logout/ion/")

    assert (
        logout_target(response)[1]["post_logout_redirect_uri"] == "https://site.example.test/bye/"
    )


def test_logout_sends_no_return_uri_when_the_setting_is_empty(ion, client, settings):
    """For an application on Ion that has no post-logout URI registered."""
    settings.SOCIAL_AUTH_ION_OIDC_POST_LOGOUT_REDIRECT_URI = ""
    ion.login()

    response = client.post("/logout/ion/")

    assert set(logout_target(response)[1]) == {"client_id", "id_token_hint"}


def test_logout_by_get_is_refused_so_links_cannot_log_people_out(ion, client):
    ion.login()

    assert client.get("/logout/ion/").status_code == 405
    assert client.get("/").content == b"home: 2027jdoe"


def test_logout_of_a_user_who_did_not_use_oidc_stays_on_the_site(client):
    client.force_login(User.objects.create(username="local"))

    response = client.post("/logout/ion/")

    assert response["Location"] == "/"
    assert client.get("/").content == b"home: anonymous"


def test_logout_when_nobody_is_logged_in_redirects_home(client):
    assert client.post("/logout/ion/")["Location"] == "/"


def test_logout_while_ion_is_unreachable_still_logs_out_here(ion, client, fake_ion, caplog):
    ion.login()
    oidc_cache.clear_cache()
    fake_ion.replace(responses.GET, DISCOVERY_URL, body=requests.ConnectionError("refused"))

    response = client.post("/logout/ion/")

    assert response["Location"] == "/"
    assert client.get("/").content == b"home: anonymous"
    assert "logged out here only" in caplog.text


def test_logout_without_an_end_session_endpoint_stays_on_the_site(ion, client, fake_ion):
    ion.login()
    oidc_cache.clear_cache()
    body = discovery()
    del body["end_session_endpoint"]
    fake_ion.replace(responses.GET, DISCOVERY_URL, json=body)

    assert client.post("/logout/ion/")["Location"] == "/"


def test_end_session_url_without_token_or_return_uri_names_only_the_client(fake_ion):
    fake_ion.add(responses.GET, DISCOVERY_URL, json=discovery())

    assert backend().end_session_url() == f"{ION}/oauth/logout/?client_id={CLIENT_ID}"


def test_end_session_url_without_a_client_id_setting_sends_an_empty_one(fake_ion, settings):
    del settings.SOCIAL_AUTH_ION_OIDC_KEY
    fake_ion.add(responses.GET, DISCOVERY_URL, json=discovery())

    assert backend().end_session_url() == f"{ION}/oauth/logout/?client_id="


def test_logout_uses_the_oidc_logins_id_token_after_a_later_oauth2_login(ion, client):
    ion.login()
    oidc_login = UserSocialAuth.objects.get()
    UserSocialAuth.objects.create(user=oidc_login.user, provider="ion", uid="1", extra_data={})

    response = client.post("/logout/ion/")

    assert logout_target(response)[1]["id_token_hint"] == oidc_login.extra_data["id_token"]


def test_logout_with_a_stored_id_token_that_is_not_a_string_stays_on_the_site(ion, client):
    ion.login()
    social = UserSocialAuth.objects.get()
    social.extra_data["id_token"] = 12345
    social.save()

    assert client.post("/logout/ion/")["Location"] == "/"
