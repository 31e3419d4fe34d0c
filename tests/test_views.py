"""ion_oauth.views and ion_oauth.urls: the login page, the login-error page and logout, as a
site gets them from ``include("ion_oauth.urls")``."""

from __future__ import annotations

import re

import pytest
from a11y import contrast, focus_ring_colours
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.test import override_settings
from django.urls import reverse
from social_django.models import UserSocialAuth

pytestmark = [pytest.mark.urls("testproject.pages_urls"), pytest.mark.django_db]

User = get_user_model()


def buttons(html: str) -> list[tuple[str, str]]:
    """(form action, button label) of each form on the page."""
    found = re.findall(
        r'<form[^>]*action="([^"]*)"[^>]*>.*?<button[^>]*>(.*?)</button>', html, flags=re.DOTALL
    )
    return [(action, " ".join(label.split())) for action, label in found]


def hidden_next(html: str) -> list[str]:
    return re.findall(r'<input type="hidden" name="next" value="([^"]*)">', html)


def test_the_url_names_resolve_to_the_documented_paths():
    assert [
        reverse(name) for name in ("ion_oauth:login", "ion_oauth:login-error", "ion_oauth:logout")
    ] == ["/login/", "/login-error/", "/logout/"]
    assert reverse("social:begin", args=["ion"]) == "/login/ion/"
    assert reverse("social:complete", args=["ion"]) == "/complete/ion/"


def test_the_login_page_offers_log_in_with_ion(client):
    response = client.get("/login/")

    assert response.status_code == 200
    assert buttons(response.content.decode()) == [("/login/ion/", "Log in with Ion")]
    assert response.templates[0].name == "ion_oauth/login.html"


def test_the_login_page_carries_a_same_site_next_to_the_button(client):
    html = client.get("/login/", {"next": "/grades/?term=2"}).content.decode()

    assert hidden_next(html) == ["/grades/?term=2"]


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "javascript:x"])
def test_the_login_page_drops_a_next_that_leaves_the_site(client, target):
    html = client.get("/login/", {"next": target}).content.decode()

    assert hidden_next(html) == []


@override_settings(
    AUTHENTICATION_BACKENDS=[
        "ion_oauth.oauth.IonOauth2",
        "ion_oauth.oidc.IonOpenIdConnect",
        "django.contrib.auth.backends.ModelBackend",
    ]
)
def test_with_both_backends_there_is_a_button_for_each(client):
    html = client.get("/login/").content.decode()

    assert buttons(html) == [
        ("/login/ion/", "Log in with Ion"),
        ("/login/ion-oidc/", "Log in with Ion (OpenID Connect)"),
    ]


@override_settings(
    AUTHENTICATION_BACKENDS=[
        "ion_oauth.oauth.IonOAuth2",
        "django.contrib.auth.backends.ModelBackend",
    ]
)
def test_without_an_ion_backend_the_login_page_says_to_run_check(client):
    html = client.get("/login/").content.decode()

    assert buttons(html) == []
    assert "run <code>manage.py check</code>" in html


def test_a_logged_in_person_sees_who_they_are_and_a_logout_button(client):
    user = User.objects.create_user("2027jdoe", first_name="John", last_name="Doe")
    client.force_login(user)

    html = client.get("/login/", {"next": "/grades/"}).content.decode()

    assert 'You are logged in as <strong id="ion-user">John Doe</strong>.' in html
    assert '<a href="/grades/">Continue</a>' in html
    assert buttons(html) == [("/logout/", "Log out")]


def test_the_login_error_page_shows_the_messages_and_try_again(client):
    response = client.get("/login/")  # a request to attach the message to
    messages.error(
        response.wsgi_request, "You cancelled the login on Ion, so you are not logged in."
    )
    response.wsgi_request._messages.update(response)
    client.cookies.update(response.cookies)

    html = client.get("/login-error/").content.decode()

    assert '<ul class="ion-messages" role="alert">' in html
    assert (
        '<li class="ion-error">You cancelled the login on Ion, so you are not logged in.</li>'
        in html
    )
    assert buttons(html) == [("/login/ion/", "Try again")]


def test_the_login_error_page_without_messages_still_says_something(client):
    html = client.get("/login-error/").content.decode()

    assert '<li class="ion-error">The login did not finish.</li>' in html


def test_a_failed_login_lands_on_the_package_error_page_with_its_message(client):
    """The whole path: a callback Ion cancelled, SocialAuthExceptionMiddleware, our page."""
    client.post("/login/ion/")

    response = client.get("/complete/ion/", {"error": "access_denied"}, follow=True)

    assert response.redirect_chain == [("/login-error/", 302)]
    assert "You cancelled the login on Ion, so you are not logged in." in response.content.decode()
    assert UserSocialAuth.objects.count() == 0


def test_logout_is_post_only(client):
    user = User.objects.create_user("2027jdoe")
    client.force_login(user)

    assert client.get("/logout/").status_code == 405
    assert client.get("/login/").context["user"].is_authenticated


def test_logout_needs_the_csrf_token(client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(User.objects.create_user("2027jdoe"))

    assert strict.post("/logout/").status_code == 403


@override_settings(LOGOUT_REDIRECT_URL="/login/")
def test_logout_of_an_oauth2_login_logs_out_here_and_goes_to_logout_redirect_url(client):
    user = User.objects.create_user("2027jdoe")
    UserSocialAuth.objects.create(user=user, provider="ion", uid="1", extra_data={})
    client.force_login(user)

    response = client.post("/logout/")

    assert (response.status_code, response["Location"]) == (302, "/login/")
    assert not client.get("/login/").context["user"].is_authenticated


def test_the_base_template_can_be_swapped(client, tmp_path, settings):
    settings.SOCIAL_AUTH_ION_BASE_TEMPLATE = "site_base.html"
    (tmp_path / "site_base.html").write_text(
        "<html><title>{% block title %}{% endblock %} | My site</title>"
        "<body>{% block content %}{% endblock %}</body></html>"
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]

    html = client.get("/login/").content.decode()

    assert "<title>Log in | My site</title>" in html
    assert buttons(html) == [("/login/ion/", "Log in with Ion")]


def test_a_site_template_of_the_same_name_replaces_a_page(client, tmp_path, settings):
    (tmp_path / "ion_oauth").mkdir()
    (tmp_path / "ion_oauth" / "login.html").write_text("our own login page")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]

    assert client.get("/login/").content.decode() == "our own login page"


@pytest.mark.parametrize("path", ["/login/", "/login-error/"])
def test_the_pages_declare_language_and_viewport(client, path):
    html = client.get(path).content.decode()

    assert html.startswith('<!doctype html>\n<html lang="en-us">')
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert html.count("<h1") == 1


def test_the_focus_ring_stands_out_at_3_to_1_on_the_card_and_the_page():
    css = render_to_string("ion_oauth/style.html")

    rings = focus_ring_colours(css)

    assert rings
    for ring in rings:
        for background in ("#ffffff", "#f4f6f9"):
            assert contrast(ring, background) >= 3, (ring, background)


def test_button_text_has_at_least_4_5_to_1_contrast():
    css = render_to_string("ion_oauth/style.html")

    assert "background: #1f3a5f; color: #fff;" in css
    assert contrast("#ffffff", "#1f3a5f") >= 4.5
    assert contrast("#ffffff", "#2c5282") >= 4.5  # hover


def test_the_login_page_shows_why_the_person_was_sent_to_it(client):
    """``relogin_with_ion`` sends people to LOGIN_URL with a message; the page must show it."""
    response = client.get("/login-error/")
    messages.info(response.wsgi_request, "Your Ion login has expired or was revoked.")
    response.wsgi_request._messages.update(response)
    client.cookies.update(response.cookies)

    html = client.get("/login/").content.decode()

    assert '<li class="ion-note">Your Ion login has expired or was revoked.</li>' in html
