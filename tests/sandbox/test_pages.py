"""The sandbox's HTML pages: person picker, consent, and the 400 page for bad requests."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from a11y import contrast, focus_ring_colours


def test_anonymous_authorize_redirects_to_the_person_picker(browser: Any) -> None:
    response = browser.get(browser.authorize_url())

    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login/"
    assert parse_qs(location.query)["next"][0].startswith("/oauth/authorize/?")


def test_person_picker_lists_the_demo_people(ion_sandbox: Any) -> None:
    page = requests.get(f"{ion_sandbox.url}/login/", timeout=10)

    assert page.status_code == 200
    for name in ("John Doe", "Mary Smith", "Eve Admin"):
        assert name in page.text


def test_consent_page_names_the_application_and_the_person(browser: Any) -> None:
    page = browser.consent_page(2)

    assert page.status_code == 200
    assert "Authorize Ion sandbox client?" in page.text
    assert "Mary Smith" in page.text


def test_sandbox_cookies_do_not_collide_with_a_django_site_on_another_port(
    browser: Any,
) -> None:
    browser.consent_page()

    names = {cookie.name for cookie in browser.session.cookies}
    assert names == {"ion_sandbox_sessionid", "ion_sandbox_csrftoken"}


def test_picking_a_person_without_the_csrf_token_is_refused(ion_sandbox: Any) -> None:
    response = requests.post(
        f"{ion_sandbox.url}/login/", data={"person": "1"}, allow_redirects=False, timeout=10
    )

    assert response.status_code == 403


def test_picking_an_unknown_person_shows_the_picker_again(browser: Any) -> None:
    page = browser.get(f"{browser.sandbox.url}/login/")

    response = browser.pick_person(page, 999)

    assert response.status_code == 400
    assert "Pick a demo person" in response.text


def test_picking_a_malformed_person_id_shows_the_picker_again(browser: Any) -> None:
    page = browser.get(f"{browser.sandbox.url}/login/")

    response = browser.pick_person(page, "abc")

    assert response.status_code == 400


def test_person_picker_does_not_redirect_off_site(browser: Any) -> None:
    page = browser.get(f"{browser.sandbox.url}/login/?next=http://evil.example/")

    response = browser.pick_person(page, 1)

    assert response.headers["Location"] == "/"


def test_unknown_client_gets_a_400_page_without_redirect(browser: Any) -> None:
    response = browser.get(browser.authorize_url(client_id="no-such-client"))

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "not valid" in response.text


def test_unregistered_redirect_uri_gets_a_400_page_without_redirect(browser: Any) -> None:
    response = browser.get(browser.authorize_url(redirect_uri="http://evil.example/cb"))

    assert response.status_code == 400
    assert "Location" not in response.headers


def test_unregistered_redirect_uri_gets_the_400_page_after_login_too(browser: Any) -> None:
    browser.consent_page()

    response = browser.get(browser.authorize_url(redirect_uri="http://evil.example/cb"))

    assert response.status_code == 400
    assert "Location" not in response.headers


def test_invalid_scope_is_reported_to_the_client(browser: Any) -> None:
    response = browser.get(browser.authorize_url(scope="no-such-scope"))

    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["error"] == ["invalid_scope"]


def test_non_oidc_client_asking_for_openid_fails_at_the_token_endpoint_as_on_ion(
    browser: Any, site: Any
) -> None:
    code = browser.code(scope="openid read")

    assert site.exchange(code).status_code == 500


def test_home_page_lists_the_endpoints(ion_sandbox: Any) -> None:
    page = requests.get(f"{ion_sandbox.url}/", timeout=10)

    assert page.status_code == 200
    assert f"{ion_sandbox.url}/oauth/token/" in page.text


def test_request_from_another_origin_is_401_as_on_ion(site: Any, tokens: dict[str, Any]) -> None:
    response = requests.get(
        f"{site.sandbox.url}/api/profile",
        headers={
            "Authorization": f"Bearer {tokens['access_token']}",
            "Origin": "http://127.0.0.1:8000",
        },
        timeout=10,
    )

    assert response.status_code == 401


def test_token_request_from_another_origin_is_401(browser: Any, site: Any) -> None:
    code = browser.code()
    response = requests.post(
        f"{site.sandbox.url}/oauth/token/",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": site.redirect_uri,
            "client_id": site.client_id,
            "client_secret": site.client_secret,
        },
        headers={"Origin": "http://localhost:8000"},
        timeout=10,
    )

    assert response.status_code == 401


def test_the_focus_ring_stands_out_at_3_to_1_on_every_page_background(ion_sandbox: Any) -> None:
    """WCAG 2.2 non-text contrast: the old ring (#f5a623 on white) was about 2:1."""
    css = requests.get(f"{ion_sandbox.url}/", timeout=10).text

    rings = focus_ring_colours(css)

    assert rings
    for ring in rings:
        for background in ("#ffffff", "#f4f6f9"):  # the page card, the page
            assert contrast(ring, background) >= 3, (ring, background)
