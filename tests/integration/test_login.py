"""Logging in with Ion end to end over real HTTP: the test site and the Ion sandbox, no mocks."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from social_django.models import UserSocialAuth
from social_django.utils import load_strategy

pytestmark = pytest.mark.integration

User = get_user_model()
STUDENT, TEACHER = 1, 2


def test_a_student_lands_back_on_the_site_logged_in(ion_login, site):
    response = ion_login.login(STUDENT)

    assert response.status_code == 200
    assert response.url == f"{site}/"
    assert response.text == "home: 2027jdoe"


def test_a_student_login_creates_a_user_from_the_ion_profile(ion_login):
    ion_login.login(STUDENT)

    user = User.objects.get()
    assert (user.username, user.first_name, user.last_name, user.email) == (
        "2027jdoe",
        "John",
        "Doe",
        "2027jdoe@tjhsst.edu",
    )
    assert not user.has_usable_password()


def test_a_student_login_stores_the_tokens_and_ion_fields(ion_login, ion):
    ion_login.login(STUDENT)

    account = UserSocialAuth.objects.get()
    assert (account.provider, account.uid) == ("ion", "1")
    data = account.extra_data
    assert data["access_token"]
    assert data["refresh_token"]
    assert (data["expires"], data["scope"]) == (36000, "read")
    assert {key: data[key] for key in ("ion_username", "display_name", "user_type")} == {
        "ion_username": "2027jdoe",
        "display_name": "John Doe",
        "user_type": "student",
    }
    assert (data["graduation_year"], data["grade"]) == (2027, {"number": 12, "name": "senior"})
    assert (data["is_student"], data["is_teacher"], data["is_eighth_admin"]) == (True, False, False)
    assert data["picture"] == f"{ion.url}/api/profile/1/picture"


def test_a_student_login_puts_the_user_in_the_student_and_class_groups(ion_login):
    ion_login.login(STUDENT)

    groups = set(User.objects.get().groups.values_list("name", flat=True))
    assert groups == {"Ion students", "Class of 2027"}


def test_a_teacher_logs_in_with_their_fcps_email_and_the_teacher_group(ion_login):
    response = ion_login.login(TEACHER)

    assert response.text == "home: msmith"
    user = User.objects.get()
    assert (user.username, user.email) == ("msmith", "msmith@fcps.edu")
    assert set(user.groups.values_list("name", flat=True)) == {"Ion teachers"}
    assert UserSocialAuth.objects.get().extra_data["graduation_year"] is None


def test_the_next_parameter_brings_the_person_back_where_they_started(ion_login, site):
    response = ion_login.login(STUDENT, next_url="/?came=back")

    assert response.url == f"{site}/?came=back"
    assert response.text == "home: 2027jdoe"


def test_cancel_on_ion_shows_the_login_error_page_and_creates_no_user(ion_login, site):
    consent = ion_login.browser.pick(ion_login.start(), STUDENT)

    response = ion_login.browser.click(consent, "Cancel")

    assert response.url == f"{site}/login-error/"
    assert ion_login.error_messages(response) == [
        "You cancelled the login on Ion, so you are not logged in."
    ]
    assert User.objects.count() == 0


def test_a_wrong_client_secret_shows_the_login_error_page_and_creates_no_user(
    ion_login, site, settings
):
    settings.SOCIAL_AUTH_ION_SECRET = "not-the-secret"

    response = ion_login.login(STUDENT)

    assert response.url == f"{site}/login-error/"
    assert ion_login.error_messages(response) == [
        "Ion did not accept this site's client credentials. The site's administrator "
        "should check SOCIAL_AUTH_ION_KEY and SOCIAL_AUTH_ION_SECRET."
    ]
    assert User.objects.count() == 0


def test_a_redirect_uri_not_registered_at_ion_gets_ions_400_page_and_no_user(
    ion_login, ion, site_port
):
    """The site is reached as localhost, a host name Ion has no redirect URI for on this
    port, so the callback it asks for is unregistered: Ion must stop there, not redirect."""
    unregistered = f"http://localhost:{site_port}"

    response = ion_login.start(site=unregistered)

    assert response.status_code == 400
    assert response.url.startswith(f"{ion.url}/oauth/authorize/?")
    assert "Mismatching redirect URI." in response.text
    assert parse_qs(urlsplit(response.url).query)["redirect_uri"] == [
        f"{unregistered}/complete/ion/"
    ]
    assert User.objects.count() == 0


def test_a_refresh_stores_the_new_tokens_ion_rotated(ion_login):
    ion_login.login(STUDENT)
    account = UserSocialAuth.objects.get()
    before = dict(account.extra_data)

    account.refresh_token(load_strategy())

    account.refresh_from_db()
    assert account.extra_data["refresh_token"] not in ("", before["refresh_token"])
    assert account.extra_data["access_token"] not in ("", before["access_token"])


def test_after_a_refresh_ion_rejects_the_old_refresh_token(ion_login, ion):
    ion_login.login(STUDENT)
    account = UserSocialAuth.objects.get()
    old = account.extra_data["refresh_token"]
    account.refresh_token(load_strategy())

    response = requests.post(
        f"{ion.url}/oauth/token/",
        data={
            "grant_type": "refresh_token",
            "refresh_token": old,
            "client_id": ion.client_id,
            "client_secret": ion.client_secret,
        },
        timeout=30,
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
