"""The Ion API client (ion_oauth.api) and the re-login handling (ion_oauth.middleware).

Ion is faked with ``responses``; the real sandbox is in tests/api/.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import responses
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.urls import path
from social_django.models import UserSocialAuth
from threads import run_in_threads

from ion_oauth.api import (
    DEFAULT_REFRESH_MARGIN,
    NOT_AUTHENTICATED,
    IonClient,
    Token,
    refresh_margin,
    token_from_extra_data,
    token_rejected,
)
from ion_oauth.exceptions import IonLoginRequired, IonRejected, IonResponseError, IonUnavailable
from ion_oauth.middleware import IonLoginRequiredMiddleware, relogin_with_ion

ION = "https://ion.example.test"
TOKEN_URL = f"{ION}/oauth/token/"
PROFILE_URL = f"{ION}/api/profile"
FORBIDDEN = {"detail": "You do not have permission to perform this action."}


def new_tokens(n: int = 2) -> dict[str, Any]:
    """What Ion's token endpoint answers to a refresh."""
    return {
        "access_token": f"access-{n}",
        "expires_in": 36000,
        "token_type": "Bearer",
        "scope": "read",
        "refresh_token": f"refresh-{n}",
    }


def refresh_when(arrived: threading.Event) -> Any:
    """Ion's answer to a refresh, given only once ``arrived`` is set: every thread has
    read the stale token by then, so each of them would refresh if nothing stopped it."""

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        assert arrived.wait(timeout=30), "not every thread arrived"
        return 200, {}, json.dumps(new_tokens())

    return answer


class Arrivals:
    """Counts threads passing a point; ``all_here`` is set when ``expected`` have."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.count = 0
        self.lock = threading.Lock()
        self.all_here = threading.Event()

    def arrive(self) -> None:
        with self.lock:
            self.count += 1
            if self.count >= self.expected:
                self.all_here.set()


def stored(*, expires_in_s: float = 36000, **extra: Any) -> dict[str, Any]:
    """extra_data as social-auth stores it after a login, expiring ``expires_in_s`` from now."""
    return {
        "access_token": "access-1",
        "refresh_token": "refresh-1",
        "expires": 36000,
        "auth_time": int(time.time() + expires_in_s - 36000),
        "scope": "read",
        "ion_username": "2027jdoe",
        **extra,
    }


@pytest.fixture
def social(db: None) -> UserSocialAuth:
    user = User.objects.create_user("2027jdoe")
    return UserSocialAuth.objects.create(user=user, provider="ion", uid="1", extra_data=stored())


def expire(social: UserSocialAuth) -> UserSocialAuth:
    social.extra_data = stored(expires_in_s=10)
    social.save()
    return social


def bearer(call: Any) -> str:
    return str(call.request.headers["Authorization"])


def token_calls(fake_ion: responses.RequestsMock) -> list[Any]:
    return [c for c in fake_ion.calls if c.request.url == TOKEN_URL]


def api_calls(fake_ion: responses.RequestsMock) -> list[Any]:
    return [c for c in fake_ion.calls if c.request.url != TOKEN_URL]


# -- requests and URLs ------------------------------------------------------------


def test_get_sends_the_access_token_as_bearer_and_returns_the_json(
    social: UserSocialAuth, fake_ion: responses.RequestsMock, student_profile: dict[str, Any]
) -> None:
    fake_ion.get(PROFILE_URL, json=student_profile)

    assert IonClient.for_social(social).get("profile") == student_profile
    assert bearer(fake_ion.calls[0]) == "Bearer access-1"
    assert fake_ion.calls[0].request.headers["Accept"] == "application/json"


def test_a_path_from_the_root_and_params_build_the_url(
    social: UserSocialAuth, fake_ion: responses.RequestsMock
) -> None:
    fake_ion.get(f"{ION}/api/schedule", json={"results": []})

    IonClient.for_social(social).get("/api/schedule", {"page": "2", "q": "a b"})

    assert fake_ion.calls[0].request.url == f"{ION}/api/schedule?page=2&q=a+b"


@pytest.mark.parametrize(
    "path", ["https://evil.example/api/profile", "//evil.example/x", "HTTP://evil.example"]
)
def test_an_absolute_url_is_refused_so_the_token_never_leaves_ion(
    social: UserSocialAuth, path: str
) -> None:
    with pytest.raises(ValueError, match="Expected a path on Ion"):
        IonClient.for_social(social).get(path)


def test_post_sends_form_data_with_the_token(
    social: UserSocialAuth, fake_ion: responses.RequestsMock
) -> None:
    fake_ion.post(f"{ION}/api/eighth/signup/1", json={"ok": True})

    result = IonClient.for_social(social).post("eighth/signup/1", {"activity": "7"})

    assert result == {"ok": True}
    assert parse_qs(fake_ion.calls[0].request.body) == {"activity": ["7"]}
    assert bearer(fake_ion.calls[0]) == "Bearer access-1"


def test_the_base_url_setting_decides_where_calls_go(
    social: UserSocialAuth, fake_ion: responses.RequestsMock, settings: Any
) -> None:
    settings.SOCIAL_AUTH_ION_BASE_URL = "https://other-ion.example.test/"
    fake_ion.get("https://other-ion.example.test/api/profile", json={"id": 1})

    assert IonClient.for_social(social).get("profile") == {"id": 1}


def test_ion_errors_other_than_a_bad_token_come_through_as_transport_errors(
    social: UserSocialAuth, fake_ion: responses.RequestsMock
) -> None:
    fake_ion.get(PROFILE_URL, status=503, body="down")

    with pytest.raises(IonUnavailable):
        IonClient.for_social(social).get("profile")
    assert token_calls(fake_ion) == []


def test_calls_share_the_transport_session_so_connections_are_reused(
    social: UserSocialAuth, fake_ion: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ion_oauth import transport

    sessions = []
    real = transport.get_session

    def spy() -> Any:
        sessions.append(real())
        return sessions[-1]

    monkeypatch.setattr(transport, "get_session", spy)
    fake_ion.get(PROFILE_URL, json={"id": 1})
    client = IonClient.for_social(social)

    client.get("profile")
    client.get("profile")

    assert len(sessions) == 2
    assert sessions[0] is sessions[1]


# -- refresh before expiry --------------------------------------------------------


def test_a_fresh_token_is_used_without_a_refresh(
    social: UserSocialAuth, fake_ion: responses.RequestsMock
) -> None:
    fake_ion.get(PROFILE_URL, json={"id": 1})

    IonClient.for_social(social).get("profile")

    assert token_calls(fake_ion) == []


def test_a_token_about_to_expire_is_refreshed_before_the_call(
    social: UserSocialAuth, fake_ion: responses.RequestsMock
) -> None:
    fake_ion.post(TOKEN_URL, json=new_tokens())
    fake_ion.get(PROFILE_URL, json={"id": 1})

    IonClient.for_social(expire(social)).get("profile")

    assert parse_qs(token_calls(fake_ion)[0].request.body) == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["refresh-1"],
        "client_id": ["test-client-id"],
        "client_secret": ["test-client-secret"],
    }
    assert [bearer(c) for c in api_calls(fake_ion)] == ["Bearer access-2"]


def test_a_refresh_saves_the_new_tokens_and_keeps_the_profile_fields(
    social: UserSocialAuth, fake_ion: responses.RequestsMock
) -> None:
    fake_ion.post(TOKEN_URL, json=new_tokens())
    fake_ion.get(PROFILE_URL, json={"id": 1})

    IonClient.for_social(expire(social)).get("profile")

    saved = UserSocialAuth.objects.get(pk=social.pk).extra_data
    assert saved["access_token"] == "access-2"
    assert saved["refresh_token"] == "refresh-2"
    assert saved["expires"] == 36000
    assert abs(saved["auth_time"] - time.time()) < 5
    assert saved["ion_username"] == "2027jdoe"
    assert social.extra_data == saved


def test_a_refresh_stores_what_the_backend_stores_from_the_response(
    social: UserSocialAuth, fake_ion: responses.RequestsMock, settings: Any
) -> None:
    """The backend decides what a token response leaves in extra_data, as at login."""
    settings.SOCIAL_AUTH_ION_EXTRA_DATA = ["id_token"]
    fake_ion.post(TOKEN_URL, json={**new_tokens(), "id_token": "new.id.token"})
    fake_ion.get(PROFILE_URL, json={"id": 1})

    IonClient.for_social(expire(social)).get("profile")

    assert UserSocialAuth.objects.get(pk=social.pk).extra_data["id_token"] == "new.id.token"


def test_a_login_whose_backend_is_not_configured_cannot_refresh(
    db: None, fake_ion: responses.RequestsMock
) -> None:
    user = User.objects.create_user("2027jdoe")
    social = UserSocialAuth.objects.create(
        user=user, provider="ion-retired", uid="1", extra_data=stored(expires_in_s=10)
    )

    with pytest.raises(ImproperlyConfigured) as caught:
        IonClient.for_social(social).get("profile")
    assert str(caught.value) == (
        "The 'ion-retired' backend is not in AUTHENTICATION_BACKENDS, "
        "so its tokens cannot be refreshed."
    )
    assert len(fake_ion.calls) == 0


def test_the_refresh_margin_setting_moves_the_refresh_earlier(
    social: UserSocialAuth, fake_ion: responses.RequestsMock, settings: Any
) -> None:
    settings.SOCIAL_AUTH_ION_REFRESH_MARGIN = 600
    social.extra_data = stored(expires_in_s=300)
    social.save()
    fake_ion.post(TOKEN_URL, json=new_tokens())
    fake_ion.get(PROFILE_URL, json={"id": 1})

    IonClient.for_social(social).get("profile")

    assert len(token_calls(fake_ion)) == 1


def test_the_default_margin_leaves_a_token_with_minutes_left_alone(
    social: UserSocialAuth, fake_ion: responses.RequestsMock
) -> None:
    social.extra_data = stored(expires_in_s=300)
    social.save()
    fake_ion.get(PROFILE_URL, json={"id": 1})

    IonClient.for_social(social).get("profile")

    assert token_calls(fake_ion) == []
    assert refresh_margin() == DEFAULT_REFRESH_MARGIN == 60


# -- refresh when Ion rejects the token ---------------------------------------------


def test_a_rejected_token_is_refreshed_once_and_the_call_retried(
    social: UserSocialAuth, fake_ion: responses.RequestsMock
) -> None:
    fake_ion.get(PROFILE_URL, status=403, json={"detail": NOT_AUTHENTICATED})
    fake_ion.get(PROFILE_URL, json={"id": 1})
    fake_ion.post(TOKEN_URL, json=new_tokens())

    assert IonClient.for_social(social).get("profile") == {"id": 1}
    assert len(token_calls(fake_ion)) == 1
    assert [bearer(c) for c in api_calls(fake_ion)] == ["Bearer access-1", "Bearer access-2"]


def test_a_401_also_counts_as_a_rejected_token(
    social: UserSocialAuth, fake_ion: responses.RequestsMock
) -> None:
    fake_ion.get(PROFILE_URL, status=401, json={"detail": "Invalid token."})
    fake_ion.get(PROFILE_URL, json={"id": 1})
    fake_ion.post(TOKEN_URL, json=new_tokens())

    assert IonClient.for_social(social).get("profile") == {"id": 1}
    assert len(token_calls(fake_ion)) == 1


def test_a_new_token_rejected_again_raises_without_a_second_refresh(
    social: UserSocialAuth, fake_ion: responses.RequestsMock
) -> None:
    fake_ion.get(PROFILE_URL, status=403, json={"detail": NOT_AUTHENTICATED})
    fake_ion.get(PROFILE_URL, status=403, json={"detail": NOT_AUTHENTICATED})
    # Were the client to refresh a second time, this answer would end the test at once.
    fake_ion.get(PROFILE_URL, json={"id": 1})
    fake_ion.post(TOKEN_URL, json=new_tokens())

    with pytest.raises(IonRejected) as raised:
        IonClient.for_social(social).get("profile")
    assert str(raised.value) == "Ion did not accept the access token even after refreshing it."
    assert (raised.value.code, raised.value.stage, raised.value.status_code) == (
        "token_rejected",
        "user_info",
        403,
    )
    assert len(token_calls(fake_ion)) == 1
    assert len(api_calls(fake_ion)) == 2


def test_a_403_for_a_missing_permission_is_raised_without_a_refresh(
    social: UserSocialAuth, fake_ion: responses.RequestsMock
) -> None:
    """A new token would not give the user a permission they lack."""
    fake_ion.get(PROFILE_URL, status=403, json=FORBIDDEN)

    with pytest.raises(IonRejected) as raised:
        IonClient.for_social(social).get("profile")
    assert raised.value.status_code == 403
    assert not isinstance(raised.value, IonLoginRequired)
    assert token_calls(fake_ion) == []


@pytest.mark.parametrize(
    ("status", "body", "rejected"),
    [
        (403, b'{"detail": "Authentication credentials were not provided."}', True),
        (401, b"", True),
        (403, b'{"detail": "You do not have permission to perform this action."}', False),
        (403, b"<html>Forbidden</html>", False),
        (403, b"\xff\xfe", False),
        (403, b'["detail"]', False),
        (200, b'{"detail": "Authentication credentials were not provided."}', False),
        (404, b"", False),
    ],
)
def test_token_rejected_recognises_only_ions_answer_to_a_bad_token(
    status: int, body: bytes, rejected: bool
) -> None:
    assert token_rejected(status, body) is rejected


# -- when Ion no longer accepts the refresh token ------------------------------------


def test_a_refused_refresh_token_raises_login_required_and_changes_nothing(
    social: UserSocialAuth, fake_ion: responses.RequestsMock
) -> None:
    fake_ion.post(TOKEN_URL, status=400, json={"error": "invalid_grant"})

    with pytest.raises(IonLoginRequired, match="log in with Ion again"):
        IonClient.for_social(expire(social)).get("profile")
    assert UserSocialAuth.objects.get(pk=social.pk).extra_data["refresh_token"] == "refresh-1"
    assert api_calls(fake_ion) == []


def test_a_rejected_token_with_a_refused_refresh_token_raises_login_required(
    social: UserSocialAuth, fake_ion: responses.RequestsMock
) -> None:
    fake_ion.get(PROFILE_URL, status=403, json={"detail": NOT_AUTHENTICATED})
    fake_ion.post(TOKEN_URL, status=400, json={"error": "invalid_grant"})

    with pytest.raises(IonLoginRequired):
        IonClient.for_social(social).get("profile")


def test_ion_being_down_during_a_refresh_is_not_a_login_problem(
    social: UserSocialAuth, fake_ion: responses.RequestsMock
) -> None:
    fake_ion.post(TOKEN_URL, status=502, body="bad gateway")

    with pytest.raises(IonUnavailable):
        IonClient.for_social(expire(social)).get("profile")


def test_no_stored_refresh_token_raises_login_required(
    social: UserSocialAuth, fake_ion: responses.RequestsMock
) -> None:
    social.extra_data = {k: v for k, v in stored(expires_in_s=10).items() if k != "refresh_token"}
    social.save()

    with pytest.raises(IonLoginRequired):
        IonClient.for_social(social).get("profile")
    assert len(fake_ion.calls) == 0


def test_no_stored_access_token_raises_login_required(social: UserSocialAuth) -> None:
    social.extra_data = {}
    social.save()

    with pytest.raises(IonLoginRequired):
        IonClient.for_social(social).get("profile")


# -- a refresh inside the caller's transaction ------------------------------------------


class RolledBack(Exception):
    """Raised to roll the caller's transaction back."""


def refreshing_threads(fake_ion: responses.RequestsMock, **answer: Any) -> list[str]:
    """Ion's token endpoint answering a refresh; the list fills with each refresh's thread."""
    names: list[str] = []

    def refresh(request: Any) -> tuple[int, dict[str, str], str]:
        names.append(threading.current_thread().name)
        return answer.get("status", 200), {}, json.dumps(answer.get("json", new_tokens()))

    fake_ion.add_callback(responses.POST, TOKEN_URL, callback=refresh)
    return names


def profile_then_roll_back(client: IonClient, using: str = "default") -> None:
    """Get the profile inside a transaction, then roll it back (the answer in the error)."""
    with transaction.atomic(using=using):
        raise RolledBack(client.get("profile"))


@pytest.mark.django_db(transaction=True)
def test_a_refresh_inside_a_transaction_that_rolls_back_keeps_the_new_tokens(
    social: UserSocialAuth, fake_ion: responses.RequestsMock
) -> None:
    """Ion revoked the old refresh token when it answered: losing the new one with the
    caller's transaction would log the user out."""
    threads = refreshing_threads(fake_ion)
    fake_ion.get(PROFILE_URL, json={"id": 1})
    client = IonClient.for_social(expire(social))

    with pytest.raises(RolledBack) as rolled_back:
        profile_then_roll_back(client)

    assert rolled_back.value.args == ({"id": 1},)
    assert UserSocialAuth.objects.get().extra_data["refresh_token"] == "refresh-2"
    assert threads == ["ion-oauth-refresh"]


@pytest.mark.django_db(transaction=True)
def test_a_refresh_outside_any_transaction_runs_on_the_callers_own_connection(
    social: UserSocialAuth, fake_ion: responses.RequestsMock
) -> None:
    threads = refreshing_threads(fake_ion)
    fake_ion.get(PROFILE_URL, json={"id": 1})

    IonClient.for_social(expire(social)).get("profile")

    assert UserSocialAuth.objects.get().extra_data["refresh_token"] == "refresh-2"
    assert threads == [threading.current_thread().name]


@pytest.mark.django_db(transaction=True)
def test_a_refused_refresh_inside_a_transaction_raises_login_required(
    social: UserSocialAuth, fake_ion: responses.RequestsMock
) -> None:
    refreshing_threads(fake_ion, status=400, json={"error": "invalid_grant"})
    client = IonClient.for_social(expire(social))

    with pytest.raises(IonLoginRequired), transaction.atomic():
        client.get("profile")

    assert UserSocialAuth.objects.get().extra_data["refresh_token"] == "refresh-1"


@pytest.mark.django_db(transaction=True)
def test_a_token_refreshed_elsewhere_is_taken_inside_a_transaction_too(
    social: UserSocialAuth, fake_ion: responses.RequestsMock
) -> None:
    threads = refreshing_threads(fake_ion)
    client = IonClient.for_social(UserSocialAuth.objects.get(pk=expire(social).pk))
    social.extra_data = {**stored(), "access_token": "access-9", "refresh_token": "refresh-9"}
    social.save()
    fake_ion.get(PROFILE_URL, json={"id": 1})

    with transaction.atomic():
        client.get("profile")

    assert threads == []
    assert [bearer(c) for c in api_calls(fake_ion)] == ["Bearer access-9"]


# -- logins kept in another database ------------------------------------------------


def social_in(database: str, **extra: Any) -> UserSocialAuth:
    user = User.objects.db_manager(database).create_user("2027jdoe")
    return UserSocialAuth.objects.using(database).create(
        user=user, provider="ion", uid="1", extra_data=stored(expires_in_s=10, **extra)
    )


class LoginsElsewhere:
    """A database router that keeps users and logins in ``other``."""

    def db_for_write(self, model: type[Any], **hints: Any) -> str | None:
        return "other" if model._meta.app_label in {"auth", "social_django"} else None

    db_for_read = db_for_write


# transaction=True: no test-case transaction around "other" hides the refresh's own.
@pytest.mark.django_db(transaction=True, databases=["default", "other"])
@pytest.mark.parametrize("routed", [False, True], ids=["row-in-other", "router"])
def test_a_refresh_writes_to_the_database_the_login_lives_in(
    fake_ion: responses.RequestsMock, settings: Any, routed: bool
) -> None:
    if routed:
        settings.DATABASE_ROUTERS = [LoginsElsewhere()]
    social = social_in("other")
    in_transaction: list[bool] = []

    def refresh(request: Any) -> tuple[int, dict[str, str], str]:
        in_transaction.append(transaction.get_connection("other").in_atomic_block)
        return 200, {}, json.dumps(new_tokens())

    fake_ion.add_callback(responses.POST, TOKEN_URL, callback=refresh)
    fake_ion.get(PROFILE_URL, json={"id": 1})

    IonClient.for_social(social).get("profile")

    stored_there = UserSocialAuth.objects.using("other").get().extra_data
    assert stored_there["refresh_token"] == "refresh-2"
    assert not UserSocialAuth.objects.using("default").exists()
    # The row stays locked (on PostgreSQL) while Ion is asked: nobody refreshes beside it.
    assert in_transaction == [True]


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_a_refresh_inside_a_transaction_on_the_logins_database_keeps_the_new_tokens(
    fake_ion: responses.RequestsMock,
) -> None:
    threads = refreshing_threads(fake_ion)
    fake_ion.get(PROFILE_URL, json={"id": 1})
    client = IonClient.for_social(social_in("other"))

    with pytest.raises(RolledBack):
        profile_then_roll_back(client, using="other")

    stored_there = UserSocialAuth.objects.using("other").get().extra_data
    assert stored_there["refresh_token"] == "refresh-2"
    assert threads == ["ion-oauth-refresh"]


# -- single flight: the second one in uses the first one's token ----------------------


def test_a_rejected_token_already_replaced_in_the_database_is_not_refreshed_again(
    social: UserSocialAuth, fake_ion: responses.RequestsMock
) -> None:
    """Another process refreshed first: refreshing the old refresh token would log the
    user out, because Ion revoked it when it rotated."""
    client = IonClient.for_social(UserSocialAuth.objects.get(pk=social.pk))
    social.extra_data = {**stored(), "access_token": "access-9", "refresh_token": "refresh-9"}
    social.save()
    fake_ion.get(PROFILE_URL, status=403, json={"detail": NOT_AUTHENTICATED})
    fake_ion.get(PROFILE_URL, json={"id": 1})

    assert client.get("profile") == {"id": 1}
    assert token_calls(fake_ion) == []
    assert [bearer(c) for c in api_calls(fake_ion)] == ["Bearer access-1", "Bearer access-9"]


def test_an_expiring_token_already_refreshed_elsewhere_is_taken_from_the_database(
    social: UserSocialAuth, fake_ion: responses.RequestsMock
) -> None:
    client = IonClient.for_social(UserSocialAuth.objects.get(pk=expire(social).pk))
    social.extra_data = {**stored(), "access_token": "access-9", "refresh_token": "refresh-9"}
    social.save()
    fake_ion.get(PROFILE_URL, json={"id": 1})

    client.get("profile")

    assert token_calls(fake_ion) == []
    assert [bearer(c) for c in api_calls(fake_ion)] == ["Bearer access-9"]


def test_a_replaced_token_that_is_itself_expiring_is_refreshed(
    social: UserSocialAuth, fake_ion: responses.RequestsMock
) -> None:
    client = IonClient.for_social(UserSocialAuth.objects.get(pk=expire(social).pk))
    social.extra_data = {**stored(expires_in_s=5), "access_token": "access-9"}
    social.save()
    fake_ion.post(TOKEN_URL, json=new_tokens())
    fake_ion.get(PROFILE_URL, json={"id": 1})

    client.get("profile")

    assert len(token_calls(fake_ion)) == 1
    assert [bearer(c) for c in api_calls(fake_ion)] == ["Bearer access-2"]


@pytest.mark.django_db(transaction=True)
def test_threads_with_one_rejected_token_refresh_it_exactly_once(
    fake_ion: responses.RequestsMock,
) -> None:
    user = User.objects.create_user("2027jdoe")
    row = UserSocialAuth.objects.create(user=user, provider="ion", uid="1", extra_data=stored())
    clients = [IonClient.for_social(UserSocialAuth.objects.get(pk=row.pk)) for _ in range(8)]

    rejected = Arrivals(8)

    def profile(request: Any) -> tuple[int, dict[str, str], str]:
        if request.headers["Authorization"] == "Bearer access-1":
            rejected.arrive()
            return 403, {}, json.dumps({"detail": NOT_AUTHENTICATED})
        return 200, {}, '{"id": 1}'

    fake_ion.add_callback(responses.GET, PROFILE_URL, callback=profile)
    fake_ion.add_callback(responses.POST, TOKEN_URL, callback=refresh_when(rejected.all_here))

    results = run_in_threads(lambda client: client.get("profile"), clients)

    assert results == [{"id": 1}] * 8
    assert rejected.count == 8
    assert len(token_calls(fake_ion)) == 1


# -- building a client for a Django user --------------------------------------------


def test_for_user_uses_the_users_ion_login(
    social: UserSocialAuth, fake_ion: responses.RequestsMock
) -> None:
    fake_ion.get(PROFILE_URL, json={"id": 1})

    IonClient.for_user(social.user).get("profile")

    assert bearer(fake_ion.calls[0]) == "Bearer access-1"


def test_for_user_finds_an_openid_connect_login_too(
    db: None, fake_ion: responses.RequestsMock
) -> None:
    user = User.objects.create_user("2027jdoe")
    UserSocialAuth.objects.create(user=user, provider="ion-oidc", uid="1", extra_data=stored())
    fake_ion.get(PROFILE_URL, json={"id": 1})

    IonClient.for_user(user).get("profile")

    assert bearer(fake_ion.calls[0]) == "Bearer access-1"


def test_for_user_with_a_provider_uses_only_that_login(social: UserSocialAuth) -> None:
    with pytest.raises(IonLoginRequired):
        IonClient.for_user(social.user, provider="ion-oidc")


def test_for_user_ignores_logins_with_other_providers(db: None) -> None:
    user = User.objects.create_user("2027jdoe")
    UserSocialAuth.objects.create(user=user, provider="github", uid="1", extra_data=stored())

    with pytest.raises(IonLoginRequired):
        IonClient.for_user(user)


def test_for_user_without_an_ion_login_raises_login_required(db: None) -> None:
    user = User.objects.create_user("local")

    with pytest.raises(IonLoginRequired, match="log in with Ion"):
        IonClient.for_user(user)


def test_for_user_with_an_anonymous_user_raises_login_required() -> None:
    with pytest.raises(IonLoginRequired):
        IonClient.for_user(AnonymousUser())


def test_for_user_with_no_user_at_all_raises_login_required() -> None:
    """A view's ``getattr(request, "user", None)`` outside AuthenticationMiddleware."""
    with pytest.raises(IonLoginRequired):
        IonClient.for_user(None)


# -- stored expiry -------------------------------------------------------------------


def test_a_tokens_repr_does_not_show_the_secret() -> None:
    assert "s3cret" not in repr(Token("s3cret", 1.0))


def test_a_query_that_contains_a_url_is_fine(
    social: UserSocialAuth, fake_ion: responses.RequestsMock
) -> None:
    fake_ion.get(f"{ION}/api/search", json={})

    IonClient.for_social(social).get("search?next=https://example.org/")

    assert fake_ion.calls[0].request.url == f"{ION}/api/search?next=https://example.org/"


def test_expiry_is_auth_time_plus_expires() -> None:
    assert token_from_extra_data({"access_token": "a", "expires": 100, "auth_time": 1000}) == Token(
        "a", 1100.0
    )


def test_a_large_expires_is_a_timestamp() -> None:
    token = token_from_extra_data({"access_token": "a", "expires": 2_000_000_000})

    assert token.expires_at == 2_000_000_000.0


def test_expires_without_auth_time_counts_from_now() -> None:
    token = token_from_extra_data({"access_token": "a", "expires": 100})

    assert token.expires_at is not None
    assert abs(token.expires_at - (time.time() + 100)) < 5


@pytest.mark.parametrize("extra", [{}, {"expires": None}, {"expires": "soon"}])
def test_an_unknown_expiry_never_triggers_an_early_refresh(extra: dict[str, Any]) -> None:
    token = token_from_extra_data({"access_token": "a", **extra})

    assert token.expires_at is None
    assert not token.expiring(DEFAULT_REFRESH_MARGIN)


# -- without Django ------------------------------------------------------------------


def plain(token: dict[str, Any], saved: list[dict[str, Any]], **kwargs: Any) -> IonClient:
    kwargs.setdefault("base_url", PLAIN)
    return IonClient.from_token(
        token, client_id="plain-id", client_secret="plain-secret", on_token=saved.append, **kwargs
    )


PLAIN = "https://plain-ion.example.test"


@pytest.mark.parametrize("base_url", [f"{PLAIN}/", f"{PLAIN}/IONX/"])
def test_plain_client_drops_only_the_trailing_slash_of_its_base_url(
    fake_ion: responses.RequestsMock, base_url: str
) -> None:
    """Guards against stripping a set of characters (or the leading end) instead."""
    fake_ion.get(f"{base_url}api/profile", json={"id": 1})

    client = plain({"access_token": "a"}, [], base_url=base_url)

    assert client.get("profile") == {"id": 1}
    assert client.base_url == base_url[:-1]


def test_plain_client_refreshes_an_expired_token_and_hands_it_to_the_callback(
    fake_ion: responses.RequestsMock,
) -> None:
    fake_ion.post(f"{PLAIN}/oauth/token/", json=new_tokens())
    fake_ion.get(f"{PLAIN}/api/profile", json={"id": 1})
    saved: list[dict[str, Any]] = []
    client = plain(
        {"access_token": "access-1", "refresh_token": "refresh-1", "expires_at": time.time() - 5},
        saved,
    )

    assert client.get("profile") == {"id": 1}
    assert parse_qs(fake_ion.calls[0].request.body) == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["refresh-1"],
        "client_id": ["plain-id"],
        "client_secret": ["plain-secret"],
    }
    assert bearer(fake_ion.calls[1]) == "Bearer access-2"
    assert [t["refresh_token"] for t in saved] == ["refresh-2"]
    assert abs(saved[0]["expires_at"] - (time.time() + 36000)) < 5


def test_plain_client_uses_a_token_with_expires_in_until_it_expires(
    fake_ion: responses.RequestsMock,
) -> None:
    fake_ion.get(f"{PLAIN}/api/profile", json={"id": 1})
    saved: list[dict[str, Any]] = []

    plain({"access_token": "a", "refresh_token": "r", "expires_in": 36000}, saved).get("profile")

    assert [c.request.url for c in fake_ion.calls] == [f"{PLAIN}/api/profile"]
    assert saved == []


def test_plain_client_refreshes_once_when_ion_rejects_the_token(
    fake_ion: responses.RequestsMock,
) -> None:
    fake_ion.get(f"{PLAIN}/api/profile", status=403, json={"detail": NOT_AUTHENTICATED})
    fake_ion.get(f"{PLAIN}/api/profile", json={"id": 1})
    fake_ion.post(f"{PLAIN}/oauth/token/", json=new_tokens())
    saved: list[dict[str, Any]] = []

    assert plain({"access_token": "access-1", "refresh_token": "r"}, saved).get("profile") == {
        "id": 1
    }
    assert len(saved) == 1


def test_plain_client_keeps_the_refresh_token_when_ion_sends_none(
    fake_ion: responses.RequestsMock,
) -> None:
    fake_ion.post(f"{PLAIN}/oauth/token/", json={"access_token": "access-2", "expires_in": 60})
    fake_ion.get(f"{PLAIN}/api/profile", json={"id": 1})
    saved: list[dict[str, Any]] = []

    plain({"access_token": "a", "refresh_token": "r", "expires_at": 0}, saved).get("profile")

    assert saved[0]["refresh_token"] == "r"


def test_plain_client_reports_a_failing_callback_and_keeps_the_new_token(
    fake_ion: responses.RequestsMock,
) -> None:
    """Ion revoked the old refresh token already, so only the new one can still work."""
    fake_ion.post(f"{PLAIN}/oauth/token/", json=new_tokens())
    fake_ion.get(f"{PLAIN}/api/profile", json={"id": 1})

    def broken_store(token: dict[str, Any]) -> None:
        raise OSError("disk full")

    client = IonClient.from_token(
        {"access_token": "access-1", "refresh_token": "refresh-1", "expires_at": 0},
        client_id="plain-id",
        client_secret="plain-secret",
        on_token=broken_store,
        base_url=PLAIN,
    )

    with pytest.raises(OSError, match="disk full"):
        client.get("profile")
    client.get("profile")
    assert bearer(fake_ion.calls[-1]) == "Bearer access-2"
    assert len([c for c in fake_ion.calls if c.request.url.endswith("/oauth/token/")]) == 1


def test_plain_client_with_a_refused_refresh_token_raises_login_required(
    fake_ion: responses.RequestsMock,
) -> None:
    fake_ion.post(f"{PLAIN}/oauth/token/", status=400, json={"error": "invalid_grant"})
    saved: list[dict[str, Any]] = []

    with pytest.raises(IonLoginRequired):
        plain({"access_token": "a", "refresh_token": "r", "expires_at": 0}, saved).get("profile")
    assert saved == []


def test_plain_client_without_a_refresh_token_raises_login_required(
    fake_ion: responses.RequestsMock,
) -> None:
    with pytest.raises(IonLoginRequired):
        plain({"access_token": "a", "expires_at": 0}, []).get("profile")
    assert len(fake_ion.calls) == 0


def test_plain_client_without_an_access_token_raises_login_required() -> None:
    with pytest.raises(IonLoginRequired):
        plain({"refresh_token": "r"}, []).get("profile")


def test_plain_client_threads_sharing_an_expired_token_refresh_once(
    fake_ion: responses.RequestsMock,
) -> None:
    saved: list[dict[str, Any]] = []
    client = plain({"access_token": "a", "refresh_token": "r", "expires_at": 0}, saved)
    refreshing = Arrivals(8)
    store_refresh = client.store.refresh

    def counted_refresh(stale: Token, margin: float) -> Token:
        refreshing.arrive()
        return store_refresh(stale, margin)

    client.store.refresh = counted_refresh  # type: ignore[method-assign]
    fake_ion.add_callback(
        responses.POST, f"{PLAIN}/oauth/token/", callback=refresh_when(refreshing.all_here)
    )
    fake_ion.get(f"{PLAIN}/api/profile", json={"id": 1})

    results = run_in_threads(lambda _: client.get("profile"), range(8))

    assert results == [{"id": 1}] * 8
    assert refreshing.count == 8
    assert len([c for c in fake_ion.calls if c.request.url.endswith("/oauth/token/")]) == 1
    assert len(saved) == 1
    assert [bearer(c) for c in fake_ion.calls if c.request.url.endswith("/api/profile")] == [
        "Bearer access-2"
    ] * 8


def test_plain_client_works_without_django_settings() -> None:
    """The requests-oauthlib case: a script with no Django project at all."""
    script = textwrap.dedent(
        """
        import responses
        from ion_oauth.api import IonClient

        with responses.RequestsMock() as ion:
            ion.post("https://ion.tjhsst.edu/oauth/token/", json={
                "access_token": "new", "refresh_token": "r2", "expires_in": 36000,
                "token_type": "Bearer", "scope": "read"})
            ion.get("https://ion.tjhsst.edu/api/profile", json={"ion_username": "2027jdoe"})
            saved = []
            client = IonClient.from_token(
                {"access_token": "old", "refresh_token": "r1", "expires_at": 0},
                client_id="id", client_secret="secret", on_token=saved.append)
            print(client.get("profile")["ion_username"], saved[0]["refresh_token"])
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}

    result = subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2027jdoe", "r2"]


# -- sending the user back through the Ion login --------------------------------------


def request_for(path: str) -> HttpRequest:
    request = RequestFactory().get(path)
    request.session = {}  # type: ignore[assignment]
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    return request


def login_required_view(request: HttpRequest) -> HttpResponse:
    raise IonLoginRequired(None, "Your Ion login has expired or was revoked.")


def test_middleware_redirects_login_required_to_the_login_page_with_next() -> None:
    middleware = IonLoginRequiredMiddleware(login_required_view)
    request = request_for("/schedule/?week=2")

    response = middleware.process_exception(request, IonLoginRequired(None, "Expired."))

    assert response is not None
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/schedule/%3Fweek%3D2"


def test_middleware_tells_the_user_why_they_are_logging_in_again() -> None:
    request = request_for("/schedule/")

    IonLoginRequiredMiddleware(login_required_view).process_exception(
        request, IonLoginRequired(None, "Your Ion login has expired.")
    )

    assert [str(m) for m in get_messages(request)] == ["Your Ion login has expired."]


def test_middleware_follows_the_login_url_setting(settings: Any) -> None:
    settings.LOGIN_URL = "/accounts/ion/"

    response = IonLoginRequiredMiddleware(login_required_view).process_exception(
        request_for("/x/"), IonLoginRequired(None, "Expired.")
    )

    assert response is not None
    assert response["Location"] == "/accounts/ion/?next=/x/"


@pytest.mark.parametrize(
    "error", [IonRejected(None, "no"), IonResponseError(None, "garbled"), ValueError("x")]
)
def test_middleware_leaves_other_exceptions_alone(error: Exception) -> None:
    middleware = IonLoginRequiredMiddleware(login_required_view)

    assert middleware.process_exception(request_for("/x/"), error) is None


UNAVAILABLE = "Ion is having trouble right now (HTTP 503). Please try again in a few minutes."


def ion_down_view(request: HttpRequest) -> HttpResponse:
    raise IonUnavailable(None, UNAVAILABLE, status_code=503)


def test_middleware_answers_ion_unavailable_with_a_503_page_saying_so() -> None:
    """Guards against Ion being down showing up as a 500 and an error report of the site's."""
    middleware = IonLoginRequiredMiddleware(ion_down_view)

    response = middleware.process_exception(
        request_for("/schedule/"), IonUnavailable(None, UNAVAILABLE, status_code=503)
    )

    assert response is not None
    assert response.status_code == 503
    assert "<p>Ion is having trouble right now (HTTP 503)." in response.content.decode()
    assert not response.has_header("Retry-After")


@pytest.mark.parametrize(("retry_after", "sent"), [("30", "30"), ("soon", None), (None, None)])
def test_the_503_page_passes_on_ions_retry_after_in_seconds(
    retry_after: str | None, sent: str | None
) -> None:
    error = IonUnavailable(None, "Ion is receiving too many requests.", retry_after=retry_after)

    response = IonLoginRequiredMiddleware(ion_down_view).process_exception(
        request_for("/x/"), error
    )

    assert response is not None
    assert response.get("Retry-After") == sent


def test_decorated_view_answers_ion_unavailable_with_a_503_page() -> None:
    response = relogin_with_ion(ion_down_view)(request_for("/schedule/"))

    assert response.status_code == 503
    assert UNAVAILABLE in response.content.decode()


def test_an_unhandled_ion_unavailable_in_a_site_with_the_middleware_is_a_503(
    client: Any, settings: Any
) -> None:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "ion_oauth.middleware.IonLoginRequiredMiddleware"]
    settings.ROOT_URLCONF = "test_api"

    response = client.get("/ion-down/")

    assert response.status_code == 503
    assert UNAVAILABLE in response.content.decode()


def test_middleware_passes_responses_through() -> None:
    middleware = IonLoginRequiredMiddleware(lambda request: HttpResponse("ok"))

    assert middleware(request_for("/x/")).content == b"ok"


def test_decorated_view_redirects_login_required_to_the_login_page() -> None:
    response = relogin_with_ion(login_required_view)(request_for("/schedule/"))

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/schedule/"


def test_decorated_view_without_messages_installed_still_redirects() -> None:
    request = RequestFactory().get("/schedule/")

    response = relogin_with_ion(login_required_view)(request)

    assert response["Location"] == "/login/?next=/schedule/"


def test_decorated_view_returns_its_response_otherwise() -> None:
    @relogin_with_ion
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        return HttpResponse(f"item {pk}")

    assert view(request_for("/x/"), pk=3).content == b"item 3"
    assert view.__name__ == "view"


# -- every request has a timeout -----------------------------------------------------


def timeouts(fake_ion: responses.RequestsMock) -> list[Any]:
    return [c.request.req_kwargs["timeout"] for c in fake_ion.calls]


def test_api_calls_and_their_refresh_carry_the_timeout_setting(
    social: UserSocialAuth, fake_ion: responses.RequestsMock, settings: Any
) -> None:
    settings.SOCIAL_AUTH_ION_TIMEOUT = 4
    expire(social)
    fake_ion.post(TOKEN_URL, json=new_tokens())
    fake_ion.get(PROFILE_URL, json={"id": 1})

    IonClient.for_social(social).get("profile")

    assert [c.request.url for c in fake_ion.calls] == [TOKEN_URL, PROFILE_URL]
    assert timeouts(fake_ion) == [4.0, 4.0]


def test_a_plain_clients_calls_and_refresh_carry_its_timeout(
    fake_ion: responses.RequestsMock,
) -> None:
    fake_ion.post(f"{PLAIN}/oauth/token/", json=new_tokens())
    fake_ion.get(f"{PLAIN}/api/profile", json={"id": 1})
    client = plain({"access_token": "a", "refresh_token": "r", "expires_at": 0}, [], timeout=2.5)

    client.get("profile")

    assert timeouts(fake_ion) == [2.5, 2.5]


def test_a_plain_client_without_a_timeout_uses_the_default(
    fake_ion: responses.RequestsMock,
) -> None:
    fake_ion.get(f"{PLAIN}/api/profile", json={"id": 1})

    plain({"access_token": "a", "expires_in": 3600}, []).get("profile")

    assert timeouts(fake_ion) == [10.0]


# -- the token sent, whatever social-auth stored as its expiry ------------------------


@pytest.mark.parametrize(
    "expiry",
    [
        {"expires": int(time.time()) + 3600},  # an absolute timestamp
        {"expires": 36000, "auth_time": int(time.time())},  # a lifetime from the login
        {},  # nothing: trusted until Ion rejects it
        {"expires": "soon"},  # unreadable: the same
    ],
    ids=["timestamp", "lifetime", "absent", "unreadable"],
)
def test_the_stored_access_token_is_the_one_sent(
    db: None, fake_ion: responses.RequestsMock, expiry: dict[str, Any]
) -> None:
    user = User.objects.create_user("2027jdoe")
    social = UserSocialAuth.objects.create(
        user=user,
        provider="ion",
        uid="1",
        extra_data={"access_token": "access-1", "refresh_token": "refresh-1", **expiry},
    )
    fake_ion.get(PROFILE_URL, json={"id": 1})

    IonClient.for_social(social).get("profile")

    assert [bearer(c) for c in fake_ion.calls] == ["Bearer access-1"]


def test_an_absolute_expires_in_the_past_refreshes_first(
    db: None, fake_ion: responses.RequestsMock
) -> None:
    user = User.objects.create_user("2027jdoe")
    social = UserSocialAuth.objects.create(
        user=user,
        provider="ion",
        uid="1",
        extra_data={
            "access_token": "access-1",
            "refresh_token": "refresh-1",
            "expires": int(time.time()) - 10,
        },
    )
    fake_ion.post(TOKEN_URL, json=new_tokens())
    fake_ion.get(PROFILE_URL, json={"id": 1})

    IonClient.for_social(social).get("profile")

    assert [bearer(c) for c in api_calls(fake_ion)] == ["Bearer access-2"]


@pytest.mark.parametrize(
    ("extra_data", "expires_at"),
    [
        ({"access_token": "a", "expires": 63_072_001}, 63_072_001.0),
        ({"access_token": "a", "expires": 63_072_000, "auth_time": 1000}, 63_073_000.0),
        ({"access_token": "a", "expires": 3600, "auth_time": 1000}, 4600.0),
        ({"access_token": "a", "expires": None}, None),
        ({"access_token": "a"}, None),
    ],
)
def test_stored_expiry_is_a_timestamp_above_two_years_of_seconds(
    extra_data: dict[str, Any], expires_at: float | None
) -> None:
    assert token_from_extra_data(extra_data) == Token("a", expires_at)


def test_a_lifetime_without_auth_time_counts_from_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time", lambda: 5000.0)

    assert token_from_extra_data({"access_token": "a", "expires": 60}) == Token("a", 5060.0)


# -- boundaries ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expiring"), [(990.0, False), (990.5, True), (989.5, False), (1000.0, True)]
)
def test_a_token_is_expiring_once_fewer_than_margin_seconds_remain(
    monkeypatch: pytest.MonkeyPatch, now: float, expiring: bool
) -> None:
    monkeypatch.setattr(time, "time", lambda: now)

    assert Token("a", 1000.0).expiring(10) is expiring
    assert Token("a", None).expiring(10) is False


def test_a_plain_token_with_expires_in_1_expires_one_second_from_now(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(time, "time", lambda: 7000.0)
    client = plain({"access_token": "a", "refresh_token": "r", "expires_in": 1}, [])

    assert client.store.current() == Token("a", 7001.0)


def test_a_plain_token_keeps_its_own_expires_at(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time", lambda: 7000.0)
    client = plain({"access_token": "a", "expires_at": 9000, "expires_in": 1}, [])

    assert client.store.current() == Token("a", 9000.0)


# -- what failures say to code that handles them -------------------------------------


def test_for_user_without_an_ion_login_says_why_in_code_and_stage(db: None) -> None:
    with pytest.raises(IonLoginRequired) as caught:
        IonClient.for_user(AnonymousUser())

    assert str(caught.value) == "Please log in with Ion to continue."
    assert (caught.value.code, caught.value.stage) == ("missing_credentials", "refresh")


@pytest.mark.parametrize(
    "extra_data", [{}, {"access_token": ""}, {"access_token": 5}], ids=["none", "empty", "int"]
)
def test_a_row_without_an_access_token_asks_to_log_in_again(
    db: None, fake_ion: responses.RequestsMock, extra_data: dict[str, Any]
) -> None:
    user = User.objects.create_user("2027jdoe")
    social = UserSocialAuth.objects.create(
        user=user, provider="ion", uid="1", extra_data=extra_data
    )

    with pytest.raises(IonLoginRequired) as caught:
        IonClient.for_social(social).get("profile")

    assert str(caught.value) == "Please log in with Ion again."
    assert (caught.value.code, caught.value.stage) == ("missing_credentials", "refresh")
    assert len(fake_ion.calls) == 0


def test_a_row_without_a_refresh_token_asks_to_log_in_again_when_it_expires(
    social: UserSocialAuth, fake_ion: responses.RequestsMock
) -> None:
    social.extra_data = stored(expires_in_s=10)
    del social.extra_data["refresh_token"]
    social.save()

    with pytest.raises(IonLoginRequired) as caught:
        IonClient.for_social(social).get("profile")

    assert str(caught.value) == "Please log in with Ion again."
    assert (caught.value.code, caught.value.stage) == ("missing_credentials", "refresh")
    assert len(fake_ion.calls) == 0


@pytest.mark.parametrize(
    "token", [{"refresh_token": "r"}, {"access_token": "", "refresh_token": "r"}]
)
def test_a_plain_client_without_an_access_token_says_why(token: dict[str, Any]) -> None:
    with pytest.raises(IonLoginRequired) as caught:
        plain(token, []).get("profile")

    assert str(caught.value) == "Please log in with Ion again."
    assert (caught.value.code, caught.value.stage) == ("missing_credentials", "refresh")


def test_a_plain_client_without_a_refresh_token_says_why(
    fake_ion: responses.RequestsMock,
) -> None:
    with pytest.raises(IonLoginRequired) as caught:
        plain({"access_token": "a", "expires_at": 0}, []).get("profile")

    assert str(caught.value) == "Please log in with Ion again."
    assert (caught.value.code, caught.value.stage) == ("missing_credentials", "refresh")


def test_api_failures_carry_the_user_info_stage_and_their_code(
    social: UserSocialAuth, fake_ion: responses.RequestsMock
) -> None:
    fake_ion.get(PROFILE_URL, status=429, headers={"Retry-After": "7"})

    with pytest.raises(IonUnavailable) as caught:
        IonClient.for_social(social).get("profile")

    assert (caught.value.code, caught.value.stage) == ("rate_limited", "user_info")
    assert caught.value.retry_after == "7"
    assert str(caught.value) == "Ion is receiving too many requests. Please try again in 7 seconds."


def test_ion_unreachable_during_an_api_call_is_a_user_info_failure(
    social: UserSocialAuth, fake_ion: responses.RequestsMock
) -> None:
    fake_ion.get(PROFILE_URL, body=requests.ConnectionError("refused"))

    with pytest.raises(IonUnavailable) as caught:
        IonClient.for_social(social).get("profile")

    assert caught.value.stage == "user_info"


def test_an_api_answer_that_is_not_json_is_logged_as_an_api_response(
    social: UserSocialAuth, fake_ion: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    fake_ion.get(PROFILE_URL, body="<html>maintenance</html>")

    with caplog.at_level(logging.WARNING, logger="ion_oauth"), pytest.raises(IonResponseError):
        IonClient.for_social(social).get("profile")

    assert caplog.messages == ["Ion API response (HTTP 200) is not a JSON object"]


def test_an_api_url_with_a_query_is_logged_without_it(
    social: UserSocialAuth, fake_ion: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    fake_ion.get(f"{ION}/api/search", body=requests.ConnectionError("refused"))

    with caplog.at_level(logging.WARNING, logger="ion_oauth"), pytest.raises(IonUnavailable):
        IonClient.for_social(social).get("search", {"q": "secret-query-value"})

    assert caplog.messages == [f"Ion API request failed: GET {ION}/api/search: ConnectionError"]


urlpatterns = [path("ion-down/", ion_down_view)]


def test_an_oidc_logins_client_calls_the_oidc_backends_ion_with_its_timeout(
    social: UserSocialAuth, settings: Any
) -> None:
    """Guards against an ion-oidc login's token going to SOCIAL_AUTH_ION_BASE_URL's Ion."""
    settings.SOCIAL_AUTH_ION_OIDC_BASE_URL = "https://oidc-ion.example.test/"
    settings.SOCIAL_AUTH_ION_OIDC_TIMEOUT = 3
    social.provider = "ion-oidc"
    social.save()

    client = IonClient.for_social(social)

    assert (client.base_url, client.timeout) == ("https://oidc-ion.example.test", 3.0)
    assert client.url("profile") == "https://oidc-ion.example.test/api/profile"


def test_an_oauth2_logins_client_keeps_the_oauth2_backends_ion(
    social: UserSocialAuth, settings: Any
) -> None:
    settings.SOCIAL_AUTH_ION_OIDC_BASE_URL = "https://oidc-ion.example.test/"
    settings.SOCIAL_AUTH_ION_TIMEOUT = 4

    client = IonClient.for_social(social)

    assert (client.base_url, client.timeout) == (ION, 4.0)
