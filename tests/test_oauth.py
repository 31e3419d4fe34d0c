"""IonOauth2: the login flow against Ion faked with ``responses``."""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl

import pytest
import requests
import responses
from django.contrib.auth import get_user_model
from ion_fakes import ION, assert_login_failed, load_fixture, messages_of
from social_django.models import UserSocialAuth
from social_django.utils import load_strategy

from ion_oauth import transport
from ion_oauth.exceptions import (
    IonAuthError,
    IonCallbackError,
    IonLoginCancelled,
    IonLoginRequired,
    IonRejected,
    IonResponseError,
    IonStateError,
    IonStateMissing,
    IonUnavailable,
)
from ion_oauth.oauth import MAX_PENDING_LOGINS, IonOauth2

pytestmark = pytest.mark.django_db

User = get_user_model()


def ion_logs(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    """(level, message) of each record on the ion_oauth logger."""
    return [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "ion_oauth"]


# -- beginning a login ------------------------------------------------------------------


def test_begin_redirects_to_ions_authorize_endpoint_with_client_id_scope_and_state(ion_login):
    params = ion_login.begin()

    assert params["client_id"] == "test-client-id"
    assert params["response_type"] == "code"
    assert params["scope"] == "read"
    assert len(params["state"]) == 32


def test_redirect_uri_is_exactly_the_registered_one_without_redirect_state(ion_login):
    """Guards against the 2016 plugin's ``?redirect_state=`` that DOT 3.x rejects."""
    params = ion_login.begin()

    assert params["redirect_uri"] == "http://testserver/complete/ion/"


def test_begin_sends_an_s256_pkce_challenge(ion_login):
    params = ion_login.begin()

    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43


def test_the_token_request_carries_the_verifier_matching_the_challenge(ion_login, fake_ion):
    params = ion_login.begin()
    ion_login.mock_ion()

    ion_login.callback(code="the-code", state=params["state"])

    sent = dict(parse_qsl(fake_ion.calls[0].request.body))
    assert len(sent["code_verifier"]) == 64
    digest = hashlib.sha256(sent["code_verifier"].encode()).digest()
    assert base64.urlsafe_b64encode(digest).decode().rstrip("=") == params["code_challenge"]
    assert sent["grant_type"] == "authorization_code"
    assert sent["code"] == "the-code"
    assert sent["redirect_uri"] == "http://testserver/complete/ion/"
    assert (sent["client_id"], sent["client_secret"]) == ("test-client-id", "test-client-secret")


def test_pkce_can_be_turned_off(ion_login, fake_ion, settings):
    settings.SOCIAL_AUTH_ION_USE_PKCE = False
    params = ion_login.begin()
    ion_login.mock_ion()

    ion_login.callback(code="the-code", state=params["state"])

    assert "code_challenge" not in params
    assert "code_verifier" not in dict(parse_qsl(fake_ion.calls[0].request.body))
    assert User.objects.count() == 1


def test_a_public_client_without_secret_logs_in_with_pkce_alone(ion_login, fake_ion, settings):
    settings.SOCIAL_AUTH_ION_SECRET = ""

    ion_login.login()

    sent = dict(parse_qsl(fake_ion.calls[0].request.body))
    assert "client_secret" not in sent
    assert "code_verifier" in sent
    assert User.objects.count() == 1


def test_auth_params_without_a_login_begun_ask_for_no_pkce_challenge(client):
    params = IonOauth2(load_strategy()).auth_params()

    assert "code_challenge" not in params
    assert params["client_id"] == "test-client-id"


def test_scope_setting_can_add_write(ion_login, settings):
    settings.SOCIAL_AUTH_ION_SCOPE = ["write"]

    assert ion_login.begin()["scope"] == "write read"


def test_openid_is_never_asked_of_the_oauth2_backend(ion_login, settings):
    """Ion answers a non-OIDC application that asked for ``openid`` with HTTP 500."""
    settings.SOCIAL_AUTH_ION_SCOPE = ["openid", "read"]

    assert ion_login.begin()["scope"] == "read"


def test_base_url_setting_moves_every_endpoint(client, fake_ion, settings):
    settings.SOCIAL_AUTH_ION_BASE_URL = "http://127.0.0.1:8080/"
    backend = IonOauth2(load_strategy())

    assert backend.authorization_url() == "http://127.0.0.1:8080/oauth/authorize/"
    assert backend.access_token_url() == "http://127.0.0.1:8080/oauth/token/"
    assert backend.profile_url() == "http://127.0.0.1:8080/api/profile"
    assert backend.revoke_token_url("t", "1") == "http://127.0.0.1:8080/oauth/revoke_token/"


@pytest.mark.parametrize(
    ("setting", "base"),
    [
        ("http://127.0.0.1:8080//", "http://127.0.0.1:8080"),
        ("https://ion.example.test/X/", "https://ion.example.test/X"),
    ],
)
def test_base_url_loses_only_its_trailing_slashes(client, settings, setting, base):
    settings.SOCIAL_AUTH_ION_BASE_URL = setting

    assert IonOauth2(load_strategy()).base_url() == base


def test_only_the_newest_pending_logins_are_kept_in_the_session(ion_login):
    states = [ion_login.begin()["state"] for _ in range(MAX_PENDING_LOGINS + 2)]

    pending = ion_login.client.session["ion_ion_oauth_pending"]
    assert set(pending) == set(states[-MAX_PENDING_LOGINS:])


def test_pending_logins_the_session_holds_in_another_shape_are_ignored(ion_login):
    state = ion_login.begin()["state"]
    session = ion_login.client.session
    session["ion_ion_oauth_pending"] |= {"junk": "text", "undated": {"issued": "soon"}}
    session.save()
    ion_login.mock_ion()

    response = ion_login.callback(code="the-code", state=state)

    assert response["Location"] == "/"


def test_two_tabs_can_each_finish_their_own_login(ion_login):
    first = ion_login.begin()["state"]
    second = ion_login.begin()["state"]
    ion_login.mock_ion()

    response = ion_login.callback(code="the-code", state=first)

    assert response["Location"] == "/"
    assert second in ion_login.client.session["ion_ion_oauth_pending"]


# -- a successful login -----------------------------------------------------------------


def test_one_login_makes_exactly_two_requests_to_ion_token_and_profile(ion_login, fake_ion):
    ion_login.login()

    assert [(c.request.method, c.request.url) for c in fake_ion.calls] == [
        ("POST", f"{ION}/oauth/token/"),
        ("GET", f"{ION}/api/profile"),
    ]


def test_the_access_token_goes_in_the_authorization_header_never_the_url(ion_login, fake_ion):
    ion_login.login()

    profile_request = fake_ion.calls[1].request
    assert profile_request.headers["Authorization"] == "Bearer kD2VfQn8s1bXwY3pA6tZc9rHm4uLe0"
    assert "kD2VfQn8" not in profile_request.url
    assert profile_request.headers["User-Agent"].startswith("ion-oauth/")


def test_both_requests_ask_ion_for_json(ion_login, fake_ion):
    ion_login.login()

    assert [c.request.headers["Accept"] for c in fake_ion.calls] == ["application/json"] * 2


def test_a_token_exchange_lost_with_a_kept_alive_connection_is_sent_again(
    ion_login, fake_ion, monkeypatch
):
    """Ion closes idle kept-alive connections; a token request lost with one, unanswered, is
    sent again on a new connection (what transport.send does for a replayable request)."""
    attempt = transport._attempt
    tried = []

    def first_try_lost(method: str, url: str, **kwargs: Any) -> Any:
        tried.append(method)
        if len(tried) == 1:
            transport._current_call().dead_reused = True
            raise requests.ConnectionError("reset by peer")
        return attempt(method, url, **kwargs)

    monkeypatch.setattr(transport, "_attempt", first_try_lost)

    response = ion_login.login()

    assert response["Location"] == "/"
    assert tried == ["POST", "POST", "GET"]


def test_the_social_auth_uid_is_ions_numeric_id(ion_login):
    ion_login.login()

    assert UserSocialAuth.objects.get().uid == "1"


def test_user_details_are_ions_username_email_and_names(client, student_profile):
    details = IonOauth2(load_strategy()).get_user_details(student_profile)

    assert details == {
        "username": "2027jdoe",
        "email": "2027jdoe@tjhsst.edu",
        "fullname": "John Doe",
        "first_name": "John",
        "last_name": "Doe",
    }


def test_user_details_turn_names_and_email_ion_leaves_null_into_empty_text(client, student_profile):
    for field in ("tj_email", "full_name", "first_name", "last_name"):
        student_profile[field] = None

    details = IonOauth2(load_strategy()).get_user_details(student_profile)

    assert details == {
        "username": "2027jdoe",
        "email": "",
        "fullname": "",
        "first_name": "",
        "last_name": "",
    }


def test_extra_data_keeps_tokens_and_the_ion_fields_apps_use(ion_login):
    ion_login.login()

    extra = UserSocialAuth.objects.get().extra_data
    assert extra["access_token"] == "kD2VfQn8s1bXwY3pA6tZc9rHm4uLe0"
    assert extra["refresh_token"] == "Pz7QwE2rT9yU4iO1pA8sD5fG3hJ6kL"
    assert extra["expires"] == 36000
    assert extra["token_type"] == "Bearer"
    assert extra["scope"] == "read"
    assert {k: extra[k] for k in ("ion_username", "display_name", "user_type")} == {
        "ion_username": "2027jdoe",
        "display_name": "John Doe",
        "user_type": "student",
    }
    assert (extra["is_student"], extra["is_teacher"], extra["is_eighth_admin"]) == (
        True,
        False,
        False,
    )
    assert extra["graduation_year"] == 2027
    assert extra["grade"] == {"number": 12, "name": "senior"}
    assert extra["picture"] == f"{ION}/api/profile/1/picture"


def test_a_teacher_without_graduation_year_logs_in(ion_login, teacher_profile):
    ion_login.login(teacher_profile)

    user = User.objects.get()
    assert (user.username, user.email) == ("msmith", "msmith@fcps.edu")
    assert UserSocialAuth.objects.get().extra_data["graduation_year"] is None


def test_a_profile_with_null_tj_email_gives_an_empty_email(ion_login, teacher_profile):
    teacher_profile["tj_email"] = None

    ion_login.login(teacher_profile)

    assert User.objects.get().email == ""


def test_next_is_honoured_after_login(ion_login):
    state = ion_login.begin(next_url="/somewhere/")["state"]
    ion_login.mock_ion()

    response = ion_login.callback(code="the-code", state=state)

    assert response["Location"] == "/somewhere/"


def test_logging_in_again_reuses_the_same_user(ion_login):
    ion_login.login()
    ion_login.client.logout()

    ion_login.login()

    assert User.objects.count() == 1
    assert UserSocialAuth.objects.count() == 1


# -- failures: each ends on the login-error page with nobody created ---------------------


def test_cancel_on_ions_consent_page_shows_a_message(ion_login):
    state = ion_login.begin()["state"]

    response = ion_login.callback(error="access_denied", state=state)

    assert_login_failed(response, "You cancelled the login on Ion, so you are not logged in.")


def test_another_oauth_error_from_ion_is_named(ion_login):
    state = ion_login.begin()["state"]

    response = ion_login.callback(error="invalid_scope", state=state)

    assert_login_failed(response, "Ion could not log you in (invalid_scope). Please try again.")


def test_an_error_that_is_not_an_oauth_code_is_not_echoed(ion_login):
    state = ion_login.begin()["state"]

    response = ion_login.callback(error="<script>alert(1)</script>", state=state)

    assert_login_failed(response, "Ion could not log you in (unknown error). Please try again.")


def test_missing_state_is_refused(ion_login):
    ion_login.begin()

    response = ion_login.callback(code="the-code")

    assert_login_failed(
        response, "The answer from Ion did not say which login it belongs to. Please log in again."
    )


FOREIGN_STATE = (
    "This answer from Ion does not belong to a login started in this browser, "
    "or it was used already. Please log in again."
)
ALREADY_FINISHED = (
    "This login was already finished; its answer from Ion cannot be used twice. "
    "Please log in again."
)
NO_COOKIE = (
    "Your browser did not send this site's cookie back, so the login could not be "
    "finished. Please log in again."
)


def test_forged_state_is_refused_before_anything_is_sent_to_ion(ion_login, fake_ion):
    ion_login.begin()
    ion_login.mock_ion()

    response = ion_login.callback(code="the-code", state="forged-state-forged-state-forged")

    assert_login_failed(response, FOREIGN_STATE)
    assert len(fake_ion.calls) == 0


def test_a_callback_in_a_browser_that_never_began_a_login_is_refused(ion_login):
    response = ion_login.callback(code="the-code", state="a" * 32)

    assert_login_failed(response, NO_COOKIE)


def test_a_replayed_callback_is_refused(ion_login, fake_ion):
    state = ion_login.begin()["state"]
    ion_login.mock_ion()
    ion_login.callback(code="the-code", state=state)
    ion_login.client.logout()
    calls = len(fake_ion.calls)

    response = ion_login.client.get("/complete/ion/", {"code": "the-code", "state": state})

    # Logging out cleared the cookie, so the replay looks like a browser with none.
    assert response["Location"] == "/login-error/"
    assert messages_of(response) == [NO_COOKIE]
    assert len(fake_ion.calls) == calls


def test_a_replayed_callback_in_the_same_session_is_refused(ion_login, fake_ion):
    """The user stays logged in: the used state must be gone from the session itself."""
    state = ion_login.begin()["state"]
    ion_login.mock_ion()
    first = ion_login.callback(code="the-code", state=state)
    assert first["Location"] == "/"
    calls = len(fake_ion.calls)

    response = ion_login.callback(code="the-code", state=state)

    assert response["Location"] == "/login-error/"
    assert messages_of(response) == [ALREADY_FINISHED]
    assert len(fake_ion.calls) == calls
    assert state not in ion_login.client.session.get("ion_ion_oauth_pending", {})


def finish_and_write_back(ion_login: Any) -> str:
    """Finish a login, then put its consumed state back in the session, as another tab saving
    the whole session it read before the callback would; returns that state."""
    state = ion_login.begin()["state"]
    pending_before = dict(ion_login.client.session["ion_ion_oauth_pending"])
    ion_login.mock_ion()
    assert ion_login.callback(code="the-code", state=state)["Location"] == "/"
    session = ion_login.client.session
    session["ion_ion_oauth_pending"] = pending_before
    session.save()
    return state


def test_a_used_state_written_back_by_another_tab_is_still_refused(ion_login, fake_ion):
    """Guards against two tabs: a login begun while another's callback runs saves the whole
    session, consumed state included, and that state would be accepted again."""
    state = finish_and_write_back(ion_login)
    calls = len(fake_ion.calls)

    response = ion_login.callback(code="the-code", state=state)

    assert response["Location"] == "/login-error/"
    assert messages_of(response) == [FOREIGN_STATE]
    assert len(fake_ion.calls) == calls


def test_used_states_past_their_lifetime_are_forgotten(ion_login, fake_ion, monkeypatch):
    from social_django.models import Nonce

    state = ion_login.begin()["state"]
    ion_login.mock_ion()
    ion_login.callback(code="the-code", state=state)
    assert Nonce.objects.filter(server_url="ion_oauth:ion:state").count() == 1
    later = time.time() + 1800 + 61
    monkeypatch.setattr(time, "time", lambda: later)

    ion_login.client.logout()
    ion_login.callback(code="another", state=ion_login.begin()["state"])

    assert Nonce.objects.filter(server_url="ion_oauth:ion:state").count() == 1


def test_only_this_backends_used_states_a_minute_past_their_lifetime_are_forgotten(
    ion_login, settings, monkeypatch
):
    from social_django.models import Nonce

    settings.SOCIAL_AUTH_ION_STATE_LIFETIME = 600
    now = 1_800_000_000
    at(monkeypatch, now)
    scope = "ion_oauth:ion:state"
    Nonce.objects.create(server_url=scope, timestamp=now - 600 - 60, salt="a-minute-past")
    Nonce.objects.create(server_url=scope, timestamp=now - 600 - 61, salt="older")
    Nonce.objects.create(server_url="https://other.example.test", timestamp=0, salt="other")

    state = ion_login.begin()["state"]
    ion_login.mock_ion()
    ion_login.callback(code="the-code", state=state)

    assert set(Nonce.objects.values_list("salt", flat=True)) == {
        "a-minute-past",
        "other",
        hashlib.sha256(state.encode()).hexdigest(),
    }


def test_a_storage_without_djangos_manager_still_refuses_a_second_use():
    """social-auth's storages for other frameworks have a nonce ``use()`` but no ``objects``."""
    used = set()

    def use(server_url: str, timestamp: int, salt: str) -> bool:
        first = (server_url, salt) not in used
        used.add((server_url, salt))
        return first

    strategy = SimpleNamespace(
        storage=SimpleNamespace(nonce=SimpleNamespace(use=use)),
        request_data=dict,
        absolute_uri=lambda uri: uri,
    )
    backend = IonOauth2(strategy)

    assert (backend._first_use("a-state", 1), backend._first_use("a-state", 1)) == (True, False)


def test_a_used_state_leaves_the_other_pending_logins_usable(ion_login, fake_ion):
    used = ion_login.begin()["state"]
    other = ion_login.begin()["state"]
    ion_login.mock_ion()
    ion_login.callback(code="the-code", state=used)

    assert list(ion_login.client.session["ion_ion_oauth_pending"]) == [other]


def test_an_expired_state_is_refused(ion_login, fake_ion, settings, monkeypatch):
    settings.SOCIAL_AUTH_ION_STATE_LIFETIME = 60
    state = ion_login.begin()["state"]
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)

    response = ion_login.callback(code="the-code", state=state)

    assert_login_failed(response, "The login took too long to finish. Please log in again.")
    assert len(fake_ion.calls) == 0


def test_a_callback_without_code_is_refused(ion_login):
    state = ion_login.begin()["state"]

    response = ion_login.callback(state=state)

    assert_login_failed(
        response, "The answer from Ion carried no sign-in code. Please log in again."
    )


def test_a_wrong_client_secret_names_the_settings_to_check(ion_login):
    response = ion_login.login(token={"error": "invalid_client"}, token_status=401)

    assert_login_failed(
        response,
        "Ion did not accept this site's client credentials. The site's administrator should "
        "check SOCIAL_AUTH_ION_KEY and SOCIAL_AUTH_ION_SECRET.",
    )


def test_a_used_or_expired_code_asks_to_log_in_again(ion_login):
    response = ion_login.login(token={"error": "invalid_grant"}, token_status=400)

    assert_login_failed(
        response,
        "Ion did not accept the sign-in code: it expired or was already used. Please log in again.",
    )


def test_ion_unreachable_is_a_clear_message(ion_login, fake_ion):
    state = ion_login.begin()["state"]
    fake_ion.add(responses.POST, f"{ION}/oauth/token/", body=requests.ConnectionError("refused"))

    response = ion_login.callback(code="the-code", state=state)

    assert_login_failed(response, "Ion could not be reached. Please try again in a few minutes.")


def test_ion_too_slow_is_a_clear_message_naming_the_timeout(ion_login, fake_ion, settings):
    settings.SOCIAL_AUTH_ION_TIMEOUT = 2.5
    state = ion_login.begin()["state"]
    fake_ion.add(responses.POST, f"{ION}/oauth/token/", body=requests.ReadTimeout("slow"))

    response = ion_login.callback(code="the-code", state=state)

    assert_login_failed(
        response, "Ion did not answer within 2.5 seconds. Please try again in a few minutes."
    )


def test_the_timeout_setting_reaches_the_request(ion_login, fake_ion, settings):
    settings.SOCIAL_AUTH_ION_TIMEOUT = 3
    ion_login.login()

    assert [c.request.req_kwargs["timeout"] for c in fake_ion.calls] == [3.0, 3.0]


def test_ion_answering_5xx_on_the_profile_is_a_clear_message(ion_login):
    response = ion_login.login(profile={"detail": "oops"}, profile_status=503)

    assert_login_failed(
        response, "Ion is having trouble right now (HTTP 503). Please try again in a few minutes."
    )


def test_html_instead_of_json_is_a_clear_message(ion_login, fake_ion):
    state = ion_login.begin()["state"]
    fake_ion.add(responses.POST, f"{ION}/oauth/token/", body="<html>Login</html>")

    response = ion_login.callback(code="the-code", state=state)

    assert_login_failed(
        response, "Ion sent a token response this site could not read. Please try again later."
    )


def test_a_profile_missing_required_fields_creates_nobody(ion_login, student_profile):
    del student_profile["ion_username"]

    response = ion_login.login(student_profile)

    assert_login_failed(
        response,
        "Ion's profile response has a missing or invalid 'ion_username' field. "
        "Please try again later or tell the site's administrator.",
    )


def test_a_token_response_without_access_token_creates_nobody(ion_login):
    response = ion_login.login(token={"token_type": "Bearer", "expires_in": 36000})

    assert_login_failed(
        response,
        "Ion's token response has a missing or invalid 'access_token' field. "
        "Please try again later or tell the site's administrator.",
    )


def test_failures_are_logged_on_the_ion_oauth_logger_without_secrets(ion_login, caplog):
    caplog.set_level(logging.INFO, logger="ion_oauth")

    ion_login.login(token={"error": "invalid_client"}, token_status=401)

    logged = " ".join(r.getMessage() for r in caplog.records if r.name == "ion_oauth")
    assert "HTTP 401" in logged
    assert "invalid_client" in logged
    assert "test-client-secret" not in logged
    assert "the-code" not in logged


@pytest.mark.parametrize(
    ("query", "logged"),
    [
        ({"code": "the-code"}, "Ion's callback carried no state; login refused"),
        (
            {"code": "the-code", "state": "f" * 32},
            "Ion login callback refused (unknown_state, backend ion): the state matches none "
            "of the logins this session has pending: forged, or from a login started elsewhere.",
        ),
    ],
    ids=["missing", "foreign"],
)
def test_a_missing_or_foreign_state_is_logged_as_a_warning(ion_login, caplog, query, logged):
    caplog.set_level(logging.INFO, logger="ion_oauth")
    ion_login.begin()

    ion_login.callback(**query)

    assert ion_logs(caplog) == [("WARNING", logged)]


def test_an_expired_state_is_logged_as_a_warning(ion_login, settings, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="ion_oauth")
    settings.SOCIAL_AUTH_ION_STATE_LIFETIME = 60
    state = ion_login.begin()["state"]
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)

    ion_login.callback(code="the-code", state=state)

    assert ion_logs(caplog) == [
        ("WARNING", "Ion's callback came after SOCIAL_AUTH_ION_STATE_LIFETIME; login refused")
    ]


# -- tokens after login -----------------------------------------------------------------


def logged_in_social(ion_login: Any) -> UserSocialAuth:
    ion_login.login()
    return UserSocialAuth.objects.get()


def test_refresh_token_stores_the_rotated_refresh_token(ion_login, fake_ion):
    social = logged_in_social(ion_login)
    fake_ion.add(
        responses.POST,
        f"{ION}/oauth/token/",
        json={
            "access_token": "new-access",
            "refresh_token": "new-refresh",
            "expires_in": 36000,
            "token_type": "Bearer",
            "scope": "read",
        },
    )

    social.refresh_token(load_strategy())

    social.refresh_from_db()
    assert social.extra_data["access_token"] == "new-access"
    assert social.extra_data["refresh_token"] == "new-refresh"
    assert social.extra_data["ion_username"] == "2027jdoe"
    sent = dict(parse_qsl(fake_ion.calls[-1].request.body))
    assert sent == {
        "grant_type": "refresh_token",
        "refresh_token": "Pz7QwE2rT9yU4iO1pA8sD5fG3hJ6kL",
        "client_id": "test-client-id",
        "client_secret": "test-client-secret",
    }


def test_a_revoked_refresh_token_raises_ion_login_required_and_keeps_the_tokens(
    ion_login, fake_ion
):
    social = logged_in_social(ion_login)
    fake_ion.add(responses.POST, f"{ION}/oauth/token/", json={"error": "invalid_grant"}, status=400)

    with pytest.raises(IonLoginRequired) as caught:
        social.refresh_token(load_strategy())

    assert str(caught.value) == (
        "Your Ion login has expired or was revoked. Please log in with Ion again."
    )
    assert isinstance(caught.value.__cause__, IonRejected)
    social.refresh_from_db()
    assert social.extra_data["refresh_token"] == "Pz7QwE2rT9yU4iO1pA8sD5fG3hJ6kL"


def test_a_refresh_refused_for_another_reason_is_not_a_login_required(ion_login, fake_ion):
    social = logged_in_social(ion_login)
    fake_ion.add(
        responses.POST, f"{ION}/oauth/token/", json={"error": "invalid_client"}, status=401
    )

    with pytest.raises(IonRejected) as caught:
        social.refresh_token(load_strategy())

    assert not isinstance(caught.value, IonLoginRequired)


def test_a_refresh_answered_without_access_token_fails_at_the_refresh_stage(ion_login, fake_ion):
    social = logged_in_social(ion_login)
    fake_ion.add(responses.POST, f"{ION}/oauth/token/", json={"token_type": "Bearer"})

    with pytest.raises(IonResponseError) as caught:
        social.refresh_token(load_strategy())

    assert (caught.value.code, caught.value.stage) == ("missing_claim", "refresh")
    assert isinstance(caught.value.backend, IonOauth2)


def test_without_a_key_ion_is_sent_an_empty_client_id(client, fake_ion, settings):
    """Ion then refuses the site's credentials, with the message naming the settings."""
    del settings.SOCIAL_AUTH_ION_KEY
    fake_ion.add(
        responses.POST, f"{ION}/oauth/token/", json={"error": "invalid_client"}, status=401
    )
    fake_ion.add(responses.POST, f"{ION}/oauth/revoke_token/", status=200)
    backend = IonOauth2(load_strategy())

    with pytest.raises(IonRejected):
        backend.refresh_token("the-refresh-token")
    backend.revoke_token("the-token", "1")

    assert [
        dict(parse_qsl(c.request.body, keep_blank_values=True))["client_id"] for c in fake_ion.calls
    ] == ["", ""]


def test_a_refresh_while_ion_is_down_raises_ion_unavailable(ion_login, fake_ion):
    social = logged_in_social(ion_login)
    fake_ion.add(responses.POST, f"{ION}/oauth/token/", status=502)

    with pytest.raises(IonUnavailable):
        social.refresh_token(load_strategy())


def test_revoke_token_posts_the_token_to_ions_revoke_endpoint(client, fake_ion):
    fake_ion.add(responses.POST, f"{ION}/oauth/revoke_token/", status=200)

    assert IonOauth2(load_strategy()).revoke_token("the-token", "1") is True

    assert dict(parse_qsl(fake_ion.calls[0].request.body)) == {
        "token": "the-token",
        "client_id": "test-client-id",
        "client_secret": "test-client-secret",
    }


def test_revoke_token_failure_is_logged_not_raised(client, fake_ion, settings, caplog):
    settings.SOCIAL_AUTH_ION_SECRET = ""
    fake_ion.add(
        responses.POST, f"{ION}/oauth/revoke_token/", body=requests.ConnectionError("down")
    )

    assert IonOauth2(load_strategy()).revoke_token("the-token", "1") is False
    assert "client_secret" not in dict(parse_qsl(fake_ion.calls[0].request.body))
    assert ion_logs(caplog) == [
        ("WARNING", f"Ion revoke request failed: POST {ION}/oauth/revoke_token/: ConnectionError")
    ]


def test_the_recorded_fixtures_are_ions_shapes():
    """The unit tests fake Ion with what a real Ion sent; keep them byte-for-byte."""
    assert list(load_fixture("profile_student.json"))[:3] == ["id", "ion_username", "sex"]


@pytest.mark.parametrize("prefix", ["", "SOCIAL_AUTH_"])
def test_a_sites_own_base_url_or_timeout_setting_is_not_taken_for_ions(ion_login, settings, prefix):
    """Guards against social-auth's fallback from SOCIAL_AUTH_ION_X to SOCIAL_AUTH_X and X."""
    del settings.SOCIAL_AUTH_ION_BASE_URL
    setattr(settings, f"{prefix}BASE_URL", "https://my-site.example.test")
    setattr(settings, f"{prefix}TIMEOUT", 99)
    backend = IonOauth2(load_strategy())

    assert backend.authorization_url() == "https://ion.tjhsst.edu/oauth/authorize/"
    assert backend.timeout() == 10.0


@pytest.mark.parametrize("prefix", ["", "SOCIAL_AUTH_"])
def test_a_sites_own_pkce_or_state_lifetime_setting_is_not_taken_for_ions(
    ion_login, settings, monkeypatch, prefix
):
    setattr(settings, f"{prefix}USE_PKCE", False)
    setattr(settings, f"{prefix}STATE_LIFETIME", 1)
    at(monkeypatch, 1_800_000_000.0)
    params = ion_login.begin()
    ion_login.mock_ion()
    at(monkeypatch, 1_800_000_061.0)

    response = ion_login.callback(code="the-code", state=params["state"])

    assert params["code_challenge_method"] == "S256"
    assert response["Location"] == "/"


class SubclassedIon(IonOauth2):
    """A site's subclass using the hooks IonOauth2 offers."""

    revoked: tuple[str, str] | None = None

    def own_setting_names(self, name: str) -> tuple[str, ...]:
        return (f"MY_SITE_ION_{name}", *super().own_setting_names(name))

    def revoke_token_url(self, token: str, uid: str) -> str:
        self.revoked = (token, uid)
        return super().revoke_token_url(token, uid)


def test_an_own_setting_is_looked_up_under_each_of_its_names_first_found_first(client, settings):
    backend = SubclassedIon(load_strategy())
    assert backend.base_url() == ION

    settings.MY_SITE_ION_BASE_URL = "https://first.example.test"

    assert backend.base_url() == "https://first.example.test"


def test_revoke_token_url_is_given_the_token_and_uid(client, fake_ion):
    fake_ion.add(responses.POST, f"{ION}/oauth/revoke_token/", status=200)
    backend = SubclassedIon(load_strategy())

    backend.revoke_token("the-token", "1")

    assert backend.revoked == ("the-token", "1")


def test_revoke_token_carries_the_timeout_setting(client, fake_ion, settings):
    settings.SOCIAL_AUTH_ION_TIMEOUT = 4
    fake_ion.add(responses.POST, f"{ION}/oauth/revoke_token/", status=200)

    IonOauth2(load_strategy()).revoke_token("the-token", "1")

    assert [c.request.req_kwargs["timeout"] for c in fake_ion.calls] == [4.0]


@pytest.mark.parametrize("status", [400, 204, 503])
def test_revoke_token_refused_by_ion_is_reported_not_raised(client, fake_ion, status):
    fake_ion.add(responses.POST, f"{ION}/oauth/revoke_token/", status=status)

    assert IonOauth2(load_strategy()).revoke_token("the-token", "1") is False


# -- the sign-in code ------------------------------------------------------------------


NO_CODE = "The answer from Ion carried no sign-in code. Please log in again."


@pytest.mark.parametrize("code", ["", "c" * 513], ids=["empty", "513-characters"])
def test_an_empty_or_overlong_code_is_refused_before_anything_is_sent(ion_login, fake_ion, code):
    state = ion_login.begin()["state"]
    ion_login.mock_ion()

    response = ion_login.callback(code=code, state=state)

    assert_login_failed(response, NO_CODE)
    assert len(fake_ion.calls) == 0


def test_a_code_of_512_characters_is_exchanged_as_it_came(ion_login, fake_ion):
    state = ion_login.begin()["state"]
    ion_login.mock_ion()

    response = ion_login.callback(code="c" * 512, state=state)

    assert response["Location"] == "/"
    assert dict(parse_qsl(fake_ion.calls[0].request.body))["code"] == "c" * 512


# -- the state's lifetime, to the second ---------------------------------------------


def at(monkeypatch, moment: float) -> None:
    monkeypatch.setattr(time, "time", lambda: moment)


@pytest.mark.parametrize("elapsed", [0, 60], ids=["at-once", "at-the-last-second"])
def test_a_state_is_good_for_exactly_its_lifetime(
    ion_login, fake_ion, settings, monkeypatch, elapsed
):
    settings.SOCIAL_AUTH_ION_STATE_LIFETIME = 60
    at(monkeypatch, 1_800_000_000.0)
    state = ion_login.begin()["state"]
    ion_login.mock_ion()
    at(monkeypatch, 1_800_000_000.0 + elapsed)

    response = ion_login.callback(code="the-code", state=state)

    assert response["Location"] == "/"
    assert UserSocialAuth.objects.count() == 1


@pytest.mark.parametrize("elapsed", [61, -1], ids=["a-second-too-late", "from-the-future"])
def test_a_state_outside_its_lifetime_is_refused(
    ion_login, fake_ion, settings, monkeypatch, elapsed
):
    settings.SOCIAL_AUTH_ION_STATE_LIFETIME = 60
    at(monkeypatch, 1_800_000_000.0)
    state = ion_login.begin()["state"]
    at(monkeypatch, 1_800_000_000.0 + elapsed)

    response = ion_login.callback(code="the-code", state=state)

    assert_login_failed(response, "The login took too long to finish. Please log in again.")
    assert len(fake_ion.calls) == 0


def test_starting_a_login_forgets_the_expired_ones(ion_login, settings, monkeypatch):
    settings.SOCIAL_AUTH_ION_STATE_LIFETIME = 60
    at(monkeypatch, 1_800_000_000.0)
    old = ion_login.begin()["state"]
    at(monkeypatch, 1_800_000_060.0)
    kept = ion_login.begin()["state"]
    assert list(ion_login.client.session["ion_ion_oauth_pending"]) == [old, kept]
    at(monkeypatch, 1_800_000_061.0)
    new = ion_login.begin()["state"]

    assert old not in ion_login.client.session["ion_ion_oauth_pending"]
    assert list(ion_login.client.session["ion_ion_oauth_pending"]) == [kept, new]


# -- connecting Ion to an account that is already logged in ----------------------------


def test_a_logged_in_user_who_logs_in_with_ion_gets_ion_connected_to_their_account(ion_login):
    local = User.objects.create_user("jdoe-local", password="x")
    ion_login.client.force_login(local)

    ion_login.login()

    social = UserSocialAuth.objects.get()
    assert social.user == local
    assert User.objects.count() == 1


# -- what failures tell a site's own handlers: code and stage ---------------------------


def failure(ion_login, settings, **callback):
    """The exception a failed login raised (social-auth re-raises it when told to)."""
    settings.SOCIAL_AUTH_RAISE_EXCEPTIONS = True
    with pytest.raises(IonAuthError) as caught:
        ion_login.callback(**callback)
    return caught.value


def with_state(ion_login, **params):
    return {"state": ion_login.begin()["state"], **params}


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("no state", (IonStateError, "missing_parameter", "callback", None)),
        ("empty state", (IonStateError, "missing_parameter", "callback", None)),
        ("forged state", (IonStateMissing, "state_mismatch", "callback", None)),
        ("no code", (IonCallbackError, "missing_parameter", "callback", None)),
        ("cancelled", (IonLoginCancelled, "authorization_declined", "callback", None)),
        ("provider error", (IonRejected, "http_error", "callback", None)),
        ("wrong secret", (IonRejected, "credential_rejected", "token_exchange", 401)),
        ("used code", (IonRejected, "authorization_code_rejected", "token_exchange", 400)),
        ("token 429", (IonUnavailable, "rate_limited", "token_exchange", 429)),
        ("token redirect", (IonResponseError, "http_error", "token_exchange", 302)),
        ("token not json", (IonResponseError, "malformed_response", "token_exchange", 200)),
        ("token lacks access_token", (IonResponseError, "missing_claim", "token_exchange", None)),
        ("unreachable", (IonUnavailable, "connection_failed", "token_exchange", None)),
        ("too slow", (IonUnavailable, "timeout", "token_exchange", None)),
        ("profile 503", (IonUnavailable, "unavailable", "user_info", 503)),
        ("profile 403", (IonRejected, "http_error", "user_info", 403)),
        ("profile lacks id", (IonResponseError, "missing_claim", "user_info", None)),
    ],
)
def test_each_failure_carries_its_code_and_stage(
    ion_login, settings, student_profile, scenario, expected
):
    fake_ion = ion_login.fake_ion
    token_url = f"{ION}/oauth/token/"
    callback = with_state(ion_login, code="the-code")
    if scenario == "no state":
        del callback["state"]
    elif scenario == "empty state":
        callback["state"] = ""
    elif scenario == "forged state":
        callback["state"] = "f" * 32
    elif scenario == "no code":
        del callback["code"]
    elif scenario == "cancelled":
        callback["error"] = "access_denied"
    elif scenario == "provider error":
        callback["error"] = "server_error"
    elif scenario == "wrong secret":
        fake_ion.add(responses.POST, token_url, json={"error": "invalid_client"}, status=401)
    elif scenario == "used code":
        fake_ion.add(responses.POST, token_url, json={"error": "invalid_grant"}, status=400)
    elif scenario == "token 429":
        fake_ion.add(responses.POST, token_url, status=429)
    elif scenario == "token redirect":
        fake_ion.add(responses.POST, token_url, status=302, headers={"Location": "/"})
    elif scenario == "token not json":
        fake_ion.add(responses.POST, token_url, body="<html></html>")
    elif scenario == "token lacks access_token":
        fake_ion.add(responses.POST, token_url, json={"token_type": "Bearer"})
    elif scenario == "unreachable":
        fake_ion.add(responses.POST, token_url, body=requests.ConnectionError("refused"))
    elif scenario == "too slow":
        fake_ion.add(responses.POST, token_url, body=requests.ReadTimeout("slow"))
    elif scenario == "profile 503":
        ion_login.mock_ion(profile={"detail": "down"}, profile_status=503)
    elif scenario == "profile 403":
        ion_login.mock_ion(profile={"detail": "no"}, profile_status=403)
    else:
        del student_profile["id"]
        ion_login.mock_ion(profile=student_profile)

    error = failure(ion_login, settings, **callback)

    assert (type(error), error.code, error.stage, error.status_code) == expected
    assert isinstance(error.backend, IonOauth2)
    assert User.objects.count() == 0


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        (
            "access_denied",
            (
                IonLoginCancelled,
                "access_denied",
                "INFO",
                "The person cancelled the login on Ion (error=access_denied)",
            ),
        ),
        (
            "invalid_scope",
            (
                IonRejected,
                "invalid_scope",
                "WARNING",
                "Ion redirected back with error=invalid_scope",
            ),
        ),
        (
            "<script>",
            (
                IonRejected,
                "unknown error",
                "WARNING",
                "Ion redirected back with error=unknown error",
            ),
        ),
    ],
    ids=["cancelled", "oauth-error", "not-an-oauth-error"],
)
def test_an_error_ion_redirects_back_with_is_kept_on_the_failure_and_logged(
    ion_login, settings, caplog, sent, expected
):
    """Guards the README's promise that each failure is logged: Cancel used to log nothing;
    it is logged at INFO, so a site can count cancels. ``provider_error`` keeps Ion's code."""
    caplog.set_level(logging.INFO, logger="ion_oauth")

    error = failure(ion_login, settings, **with_state(ion_login, error=sent))

    assert (type(error), error.provider_error, *ion_logs(caplog)[0]) == expected
    assert len(ion_logs(caplog)) == 1
    assert isinstance(error.backend, IonOauth2)


def test_callback_data_that_is_not_a_mapping_carries_no_error(client):
    assert IonOauth2(load_strategy()).process_error(None) is None


def test_an_expired_state_is_refused_as_response_expired(ion_login, settings, monkeypatch):
    settings.SOCIAL_AUTH_ION_STATE_LIFETIME = 60
    at(monkeypatch, 1_800_000_000.0)
    state = ion_login.begin()["state"]
    at(monkeypatch, 1_800_000_061.0)

    error = failure(ion_login, settings, code="the-code", state=state)

    assert (type(error), error.code, error.stage) == (IonStateError, "response_expired", "callback")
    assert isinstance(error.backend, IonOauth2)


def test_a_used_state_written_back_is_refused_as_a_state_mismatch_and_logged(
    ion_login, settings, caplog
):
    state = finish_and_write_back(ion_login)
    caplog.clear()

    error = failure(ion_login, settings, code="the-code", state=state)

    assert (type(error), error.code, error.stage) == (IonStateError, "state_mismatch", "callback")
    assert isinstance(error.backend, IonOauth2)
    assert ion_logs(caplog) == [
        ("WARNING", "Ion's callback carried a state that was used already; login refused")
    ]


def test_a_profile_ion_sends_as_html_is_named_in_the_message(ion_login, fake_ion):
    state = ion_login.begin()["state"]
    fake_ion.add(responses.POST, f"{ION}/oauth/token/", json=load_fixture("token_response.json"))
    fake_ion.add(responses.GET, f"{ION}/api/profile", body="<html>Login</html>")

    response = ion_login.callback(code="the-code", state=state)

    assert_login_failed(
        response, "Ion sent a profile response this site could not read. Please try again later."
    )


def test_a_refresh_ion_refuses_carries_the_refresh_stage(ion_login, fake_ion):
    social = logged_in_social(ion_login)
    fake_ion.add(responses.POST, f"{ION}/oauth/token/", json={"error": "invalid_grant"}, status=400)

    with pytest.raises(IonLoginRequired) as caught:
        social.refresh_token(load_strategy())

    assert (caught.value.code, caught.value.stage) == ("token_revoked", "refresh")
    assert isinstance(caught.value.backend, IonOauth2)
    assert (caught.value.status_code, caught.value.provider_error) == (400, "invalid_grant")
    assert (caught.value.__cause__.code, caught.value.__cause__.stage) == (
        "authorization_code_rejected",
        "refresh",
    )


def test_starting_a_login_forgets_one_begun_in_the_future_after_the_clock_stepped_back(
    ion_login, monkeypatch
):
    at(monkeypatch, 1_800_000_100.0)
    future = ion_login.begin()["state"]
    at(monkeypatch, 1_800_000_000.0)
    now = ion_login.begin()["state"]

    assert future not in ion_login.client.session["ion_ion_oauth_pending"]
    assert list(ion_login.client.session["ion_ion_oauth_pending"]) == [now]
