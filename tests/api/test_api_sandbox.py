"""The API client against a real Ion sandbox over loopback HTTP (one process, SQLite)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from social_django.models import UserSocialAuth
from threads import run_in_threads

from ion_oauth.api import IonClient
from ion_oauth.exceptions import IonLoginRequired
from ion_oauth.testing import IonBrowser, IonSandbox, fetch_tokens, log_in_client

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def logged_in(client: Any, ion: IonSandbox) -> UserSocialAuth:
    """Log 2027jdoe in through the sandbox; return their Ion login; counters at zero."""
    log_in_client(client, ion)
    ion.reset_stats()
    return UserSocialAuth.objects.get(user__username="2027jdoe", provider="ion")


def age(social: UserSocialAuth, seconds: float) -> UserSocialAuth:
    """Make the stored token look ``seconds`` old, as if the login was that long ago."""
    social.extra_data["auth_time"] = int(time.time() - seconds)
    social.save()
    return social


def refreshes(ion: IonSandbox) -> int:
    return int(ion.stats()["token_requests"].get("refresh_token", 0))


def test_a_login_through_the_sandbox_stores_tokens_the_client_can_use(
    client: Any, ion_site: IonSandbox
) -> None:
    social = logged_in(client, ion_site)

    assert IonClient.for_social(social).get("profile")["ion_username"] == "2027jdoe"
    assert refreshes(ion_site) == 0


def test_an_expired_access_token_is_refreshed_once_and_the_call_succeeds(
    client: Any, ion_site: IonSandbox
) -> None:
    social = age(logged_in(client, ion_site), 36000)

    assert IonClient.for_social(social).get("profile")["ion_username"] == "2027jdoe"
    assert refreshes(ion_site) == 1
    assert ion_site.stats()["profile_requests"] == 1


def test_a_token_ion_expired_early_is_refreshed_once_after_the_403(
    client: Any, ion_site: IonSandbox
) -> None:
    social = logged_in(client, ion_site)
    ion_site.expire_tokens()

    assert IonClient.for_social(social).get("profile")["ion_username"] == "2027jdoe"
    assert refreshes(ion_site) == 1
    assert ion_site.stats()["profile_requests"] == 2


def test_the_refreshed_tokens_are_saved_for_the_next_request(
    client: Any, ion_site: IonSandbox
) -> None:
    social = logged_in(client, ion_site)
    ion_site.expire_tokens()
    IonClient.for_social(social).get("profile")

    fresh = UserSocialAuth.objects.get(pk=social.pk)
    IonClient.for_social(fresh).get("profile")

    assert refreshes(ion_site) == 1
    assert ion_site.stats()["profile_requests"] == 3


def test_calls_reuse_the_connection_to_ion(client: Any, ion_site: IonSandbox) -> None:
    api = IonClient.for_social(logged_in(client, ion_site))

    for _ in range(5):
        api.get("profile")

    assert ion_site.stats()["connections"] <= 1


def test_a_revoked_refresh_token_raises_login_required(client: Any, ion_site: IonSandbox) -> None:
    social = logged_in(client, ion_site)
    ion_site.revoke_tokens()

    with pytest.raises(IonLoginRequired) as raised:
        IonClient.for_social(social).get("profile")
    assert raised.value.provider_error == "invalid_grant"


def test_a_revoked_refresh_token_sends_the_user_to_log_in_again(
    client: Any, ion_site: IonSandbox
) -> None:
    logged_in(client, ion_site)
    ion_site.revoke_tokens()

    response = client.get("/ion-profile/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/ion-profile/"


def test_logging_in_again_after_a_revocation_brings_the_user_back_with_working_tokens(
    client: Any, ion_site: IonSandbox
) -> None:
    logged_in(client, ion_site)
    ion_site.revoke_tokens()
    client.get("/ion-profile/")

    begun = client.post("/login/ion/", {"next": "/ion-profile/"})
    callback = urlsplit(IonBrowser().authorize(begun["Location"]))
    again = client.get(f"{callback.path}?{callback.query}")

    assert again["Location"] == "/ion-profile/"
    assert client.get("/ion-profile/").json()["ion_username"] == "2027jdoe"


def run_concurrently(socials: list[UserSocialAuth]) -> list[dict[str, Any]]:
    """One API call per row (each like a separate web request), 8 threads at a time;
    any thread's error fails the test."""
    return run_in_threads(
        lambda social: IonClient.for_social(social).get("profile"), socials, threads=8
    )


def test_50_calls_from_8_threads_on_a_token_ion_rejects_refresh_it_exactly_once(
    client: Any, ion_site: IonSandbox
) -> None:
    social = logged_in(client, ion_site)
    socials = [UserSocialAuth.objects.get(pk=social.pk) for _ in range(50)]
    ion_site.expire_tokens()

    profiles = run_concurrently(socials)

    assert [p["ion_username"] for p in profiles] == ["2027jdoe"] * 50
    assert refreshes(ion_site) == 1


def test_50_calls_from_8_threads_on_an_expired_token_refresh_it_exactly_once(
    client: Any, ion_site: IonSandbox
) -> None:
    social = age(logged_in(client, ion_site), 36000)
    socials = [UserSocialAuth.objects.get(pk=social.pk) for _ in range(50)]

    profiles = run_concurrently(socials)

    assert [p["ion_username"] for p in profiles] == ["2027jdoe"] * 50
    assert refreshes(ion_site) == 1
    assert ion_site.stats()["profile_requests"] == 50


def test_a_user_without_an_ion_login_is_sent_to_log_in_with_ion(
    client: Any, ion_site: IonSandbox
) -> None:
    client.force_login(User.objects.create_user("local"))

    response = client.get("/ion-profile/")

    assert response["Location"] == "/login/?next=/ion-profile/"


# -- without Django ------------------------------------------------------------------


def plain(ion: IonSandbox, token: dict[str, Any], saved: list[dict[str, Any]]) -> IonClient:
    return IonClient.from_token(
        token,
        client_id=ion.client_id,
        client_secret=ion.client_secret,
        on_token=saved.append,
        base_url=ion.url,
    )


def test_plain_client_refreshes_a_token_ion_rejects_and_hands_over_the_new_one(
    ion: IonSandbox,
) -> None:
    token = fetch_tokens(ion)
    ion.expire_tokens()
    ion.reset_stats()
    saved: list[dict[str, Any]] = []

    assert plain(ion, token, saved).get("profile")["ion_username"] == "2027jdoe"
    assert refreshes(ion) == 1
    assert saved[0]["refresh_token"] != token["refresh_token"]


def test_plain_client_with_the_refresh_token_it_replaced_must_log_in_again(
    ion: IonSandbox,
) -> None:
    """Why refresh must be single-flight: Ion revoked the old refresh token on rotation."""
    token = fetch_tokens(ion)
    ion.expire_tokens()
    plain(ion, token, []).get("profile")

    with pytest.raises(IonLoginRequired):
        plain(ion, token, []).get("profile")
