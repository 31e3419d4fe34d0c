"""``ion_oauth.testing.log_in`` and ``log_in_client`` against the test site and a real sandbox:
the calls a site's own test suite makes."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from ion_oauth.testing import IonBrowser, IonLoginError, fetch_tokens, log_in, log_in_client

pytestmark = pytest.mark.integration


def test_log_in_returns_a_session_logged_in_to_the_site(site, ion):
    with log_in(site, ion) as session:
        assert session.get(f"{site}/", timeout=10).text == "home: 2027jdoe"


def test_log_in_logs_in_the_person_named(site, ion):
    with log_in(site, ion, username="msmith") as session:
        assert session.get(f"{site}/", timeout=10).text == "home: msmith"


def test_log_in_goes_on_with_a_given_session_to_the_next_page(site, ion):
    with requests.Session() as session:
        returned = log_in(site, ion, session=session, next_url="/?came=back")

        assert returned is session
        assert session.get(f"{site}/", timeout=10).text == "home: 2027jdoe"


def test_cancel_ends_on_the_sites_login_error_page_not_logged_in(site, ion):
    with IonBrowser() as browser:
        page = browser.log_in(site, ion, approve=False)

        assert page.url == f"{site}/login-error/"
        assert "cancel" in page.text.lower()
        assert browser.get(f"{site}/").text == "home: anonymous"


def test_log_in_with_cancel_returns_a_session_that_is_not_logged_in(site, ion):
    with log_in(site, ion, approve=False) as session:
        assert session.get(f"{site}/", timeout=10).text == "home: anonymous"


def test_a_login_the_site_rejects_is_an_ion_login_error_quoting_the_error_page(site, ion, settings):
    settings.SOCIAL_AUTH_ION_SECRET = "not-the-secret"

    # Only the message is kept: a traceback kept past the test left a live-server thread
    # running into the next one.
    try:
        log_in(site, ion)
    except IonLoginError as error:
        message = str(error)
    else:
        pytest.fail("log_in did not raise IonLoginError")
    assert message.startswith(
        f"{site}/complete/ion/ sent the browser to the login-error page {site}/login-error/ "
        "after Authorize; expected a logged-in page. The page says: ["
    )
    assert "not-the-secret" not in message
    assert "code=" not in message


def test_a_site_pointed_at_another_ion_is_an_ion_login_error(site, ion, settings):
    settings.SOCIAL_AUTH_ION_BASE_URL = "http://127.0.0.1:9"

    with pytest.raises(IonLoginError, match="not to the Ion sandbox at"):
        log_in(site, ion)


@pytest.mark.django_db(transaction=True)
def test_log_in_client_logs_the_test_client_in(client: Any, site, ion):
    returned = log_in_client(client, ion, username="msmith")

    assert returned is client
    assert client.get("/").content == b"home: msmith"


@pytest.mark.django_db(transaction=True)
def test_log_in_client_with_cancel_ends_on_the_login_error_page(client: Any, site, ion):
    log_in_client(client, ion, approve=False)

    assert client.get("/").content == b"home: anonymous"


@pytest.mark.django_db(transaction=True)
def test_log_in_client_with_a_rejected_login_is_an_ion_login_error(
    client: Any, site, ion, settings
):
    settings.SOCIAL_AUTH_ION_SECRET = "not-the-secret"

    with pytest.raises(IonLoginError, match="after Authorize; expected a logged-in page"):
        log_in_client(client, ion)


def test_fetch_tokens_gives_a_token_the_sandbox_accepts_for_that_person(ion):
    tokens = fetch_tokens(ion, username="msmith", scope="read write")

    profile = requests.get(
        f"{ion.url}/api/profile",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    )
    assert tokens["scope"] == "read write"
    assert profile.json()["ion_username"] == "msmith"


def test_fetch_tokens_with_an_unregistered_redirect_uri_is_an_ion_login_error(ion):
    with pytest.raises(IonLoginError) as error:
        fetch_tokens(ion, redirect_uri="http://127.0.0.1:8000/not-registered/")

    assert str(error.value) == (
        f"{ion.url}/oauth/authorize/ answered 400; expected the sandbox's person picker or "
        "consent page, with buttons: []"
    )
