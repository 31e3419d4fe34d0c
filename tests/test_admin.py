"""SOCIAL_AUTH_ION_ADMIN_LOGIN: the Django admin's login page offers "Log in with Ion"."""

from __future__ import annotations

import importlib

import pytest
from django.contrib import admin
from django.contrib.admin import AdminSite

import ion_oauth.admin
from ion_oauth.admin import LOGIN_TEMPLATE, offer_ion_login

pytestmark = pytest.mark.urls("testproject.pages_urls")


@pytest.fixture
def site_login_template(monkeypatch):
    """The default admin site as it starts, restored afterwards."""
    monkeypatch.setattr(admin.site, "login_template", None)
    return admin.site


def test_off_by_default(site_login_template, settings):
    importlib.reload(ion_oauth.admin)

    assert admin.site.login_template is None


def test_the_setting_gives_the_admin_site_the_ion_login_page(site_login_template, settings):
    settings.SOCIAL_AUTH_ION_ADMIN_LOGIN = True

    importlib.reload(ion_oauth.admin)

    assert admin.site.login_template == LOGIN_TEMPLATE


def test_a_site_with_its_own_login_template_keeps_it():
    site = AdminSite()
    site.login_template = "mine/login.html"

    offer_ion_login(site)

    assert site.login_template == "mine/login.html"


@pytest.mark.django_db
def test_the_admin_login_page_shows_its_form_and_the_ion_button_returning_to_next(
    site_login_template, client
):
    offer_ion_login(admin.site)

    html = client.get("/admin/login/", {"next": "/admin/"}).content.decode()

    assert 'id="login-form"' in html
    assert '<form class="ion-login" method="post" action="/login/ion/">' in html
    assert '<input type="hidden" name="next" value="/admin/">' in html
    assert ">Log in with Ion</button>" in html
