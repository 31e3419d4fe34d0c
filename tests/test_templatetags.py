"""{% ion_login_button %}: a POST form with the CSRF token and ``next``."""

from __future__ import annotations

import re

import pytest
from django.template import Context, Template
from django.test import RequestFactory


def render(template: str, path: str = "/login/") -> str:
    request = RequestFactory().get(path)
    request.META["CSRF_COOKIE"] = "x" * 32
    html = Template("{% load ion_oauth %}" + template).render(Context({"request": request}))
    return re.sub(r'value="[A-Za-z0-9]{64}"', 'value="CSRF"', html)


def test_the_button_is_a_post_form_to_login_ion_with_csrf_token():
    assert render("{% ion_login_button %}") == (
        '<form class="ion-login" method="post" action="/login/ion/">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="CSRF">\n'
        '  <button type="submit" class="ion-login-button" data-backend="ion">Log in with Ion</button>\n'
        "</form>\n"
    )


def test_the_button_carries_next_from_the_current_page():
    html = render("{% ion_login_button %}", path="/login/?next=/grades/")

    assert '<input type="hidden" name="next" value="/grades/">' in html


def test_an_explicit_next_wins_and_is_escaped():
    html = render('{% ion_login_button next="/a/?b=1&c=\\"2\\"" %}', path="/login/?next=/x/")

    assert 'name="next" value="/a/?b=1&amp;c=&quot;2&quot;"' in html


def test_label_and_backend_can_be_changed():
    html = render('{% ion_login_button label="Sign in" backend="ion-oidc" %}')

    assert 'action="/login/ion-oidc/"' in html
    assert ">Sign in</button>" in html


def test_the_tag_renders_without_a_request_in_the_context():
    html = Template("{% load ion_oauth %}{% ion_login_button %}").render(Context({}))

    assert 'action="/login/ion/"' in html
    assert "next" not in html


@pytest.mark.django_db
def test_the_button_starts_a_login_through_the_real_view(client):
    """The rendered form, submitted as a browser would, leads to Ion's authorize page."""
    client = type(client)(enforce_csrf_checks=True)
    page = client.get("/login/?next=/after/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    response = client.post("/login/ion/", {"csrfmiddlewaretoken": token, "next": "/after/"})

    assert response.status_code == 302
    assert response["Location"].startswith("https://ion.example.test/oauth/authorize/?")
    assert client.session["next"] == "/after/"


def test_a_next_from_the_query_string_is_escaped():
    html = render("{% ion_login_button %}", path='/login/?next="><script>x</script>')

    assert "<script>" not in html
    assert 'value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in html
