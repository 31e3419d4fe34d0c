"""Logging in with Ion over OpenID Connect end to end: the test site and the sandbox."""

from __future__ import annotations

import re

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from social_django.models import UserSocialAuth

from ion_oauth.testing import forms_of

pytestmark = pytest.mark.integration

User = get_user_model()
STUDENT, TEACHER, ADMIN = 1, 2, 3


def test_a_student_lands_back_on_the_site_logged_in(oidc_login, oidc_site):
    response = oidc_login.login(STUDENT)

    assert response.status_code == 200
    assert response.url == f"{oidc_site}/"
    assert response.text == "home: 2027jdoe"


def test_the_user_and_link_come_from_the_sandboxs_id_token(oidc_login):
    oidc_login.login(TEACHER)

    user = User.objects.get()
    assert (user.username, user.email) == ("msmith", "msmith@fcps.edu")
    account = UserSocialAuth.objects.get()
    assert (account.provider, account.uid) == ("ion-oidc", "2")
    assert account.extra_data["scope"] == "openid profile email groups read"
    assert account.extra_data["id_token"].count(".") == 2


def test_a_login_makes_one_token_request_and_no_profile_request(oidc_login, oidc_ion):
    oidc_login.login(STUDENT)

    stats = oidc_ion.stats()
    assert stats["token_requests"].get("authorization_code") == 1
    assert stats["profile_requests"] == 0


def test_the_first_login_fetches_discovery_and_keys_and_the_next_only_the_token(
    oidc_login, oidc_site, oidc_ion, requests_to_ion
):
    oidc_login.login(STUDENT)
    first = list(requests_to_ion)
    requests_to_ion.clear()

    # Still logged in to Ion, so Ion goes straight to its consent page.
    oidc_login.browser.click(oidc_login.start(), "Authorize")

    assert first == [
        f"{oidc_ion.url}/oauth/.well-known/openid-configuration/",
        f"{oidc_ion.url}/oauth/token/",
        f"{oidc_ion.url}/oauth/.well-known/jwks.json",
    ]
    assert requests_to_ion == [f"{oidc_ion.url}/oauth/token/"]


def test_ion_groups_map_to_django_groups_in_the_pipeline(oidc_login, settings):
    settings.SOCIAL_AUTH_PIPELINE = [
        *settings.SOCIAL_AUTH_PIPELINE,
        "ion_oauth.pipeline.sync_oidc_groups",
    ]
    settings.SOCIAL_AUTH_ION_OIDC_GROUP_MAP = {"admin_eighth": "Eighth period admins"}

    oidc_login.login(ADMIN)

    assert list(User.objects.get().groups.values_list("name", flat=True)) == [
        "Eighth period admins"
    ]
    assert Group.objects.count() == 1


def test_cancel_on_ions_consent_page_ends_on_the_login_error_page(oidc_login, oidc_site):
    consent = oidc_login.browser.pick(oidc_login.start(), STUDENT)

    page = oidc_login.browser.click(consent, "Cancel")

    assert page.url == f"{oidc_site}/login-error/"
    assert re.findall(r'<p class="error">(.*?)</p>', page.text) == [
        "You cancelled the login on Ion, so you are not logged in."
    ]
    assert User.objects.count() == 0


def test_logout_ends_the_session_on_the_site_and_on_ion(oidc_login, oidc_site, settings):
    # The sandbox's client has no post-logout URI registered, so none is sent.
    settings.SOCIAL_AUTH_ION_OIDC_POST_LOGOUT_REDIRECT_URI = ""
    oidc_login.login(STUDENT)

    confirm = oidc_login.post("/logout/ion/")
    oidc_login.browser.click(confirm, "Logout")

    assert oidc_login.browser.get(f"{oidc_site}/").text == "home: anonymous"
    ion_page = oidc_login.start()
    assert "1" in [
        button.value
        for f in forms_of(ion_page.text)
        for button in f.buttons
        if button.name == "person"
    ]


def test_logout_at_ion_returns_to_the_site(oidc_login, oidc_site):
    """The sandbox registers each OIDC redirect URI's site root as a post-logout URI."""
    oidc_login.login(STUDENT)

    page = oidc_login.browser.click(oidc_login.post("/logout/ion/"), "Logout")

    assert page.url == f"{oidc_site}/"
    assert page.text == "home: anonymous"


def test_logout_revokes_the_sites_tokens_at_ion(oidc_login, oidc_ion, settings):
    """Ion (django-oauth-toolkit) deletes the user's tokens when it ends the session."""
    settings.SOCIAL_AUTH_ION_OIDC_POST_LOGOUT_REDIRECT_URI = ""
    oidc_login.login(STUDENT)
    access_token = UserSocialAuth.objects.get().extra_data["access_token"]

    oidc_login.browser.click(oidc_login.post("/logout/ion/"), "Logout")

    profile = requests.get(
        f"{oidc_ion.url}/api/profile",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=10,
    )
    assert profile.status_code == 403
