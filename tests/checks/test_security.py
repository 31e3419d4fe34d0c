"""ion_oauth.checks.security: one test per check id (E017, E020, E021, W011), each failing
and passing."""

from __future__ import annotations

import pytest
from django.test import override_settings

from ion_oauth.checks.security import check_production, check_redirects, check_sandbox_credentials

OIDC = ["ion_oauth.oauth.IonOauth2", "ion_oauth.oidc.IonOpenIdConnect"]

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def every_check() -> list:
    return check_production() + check_redirects() + check_sandbox_credentials()


def ids(messages) -> list[str]:
    return [m.id for m in messages]


def test_the_test_site_passes_every_check():
    assert every_check() == []


def test_e017_the_sandbox_client_id_sent_to_the_real_ion(settings):
    # The settings fixture alone: mixed with @override_settings, its restore left the
    # sandbox's key set for the tests after this one.
    settings.SOCIAL_AUTH_ION_KEY = "ion-sandbox-client"
    del settings.SOCIAL_AUTH_ION_BASE_URL

    [error] = check_sandbox_credentials()

    assert error.id == "ion_oauth.E017"
    assert "'ion-sandbox-client'" in error.msg
    assert "SOCIAL_AUTH_ION_BASE_URL" in error.hint


@override_settings(
    SOCIAL_AUTH_ION_KEY="ion-sandbox-client", SOCIAL_AUTH_ION_BASE_URL="http://127.0.0.1:8080"
)
def test_e017_is_satisfied_by_the_sandbox_url():
    assert check_sandbox_credentials() == []


@override_settings(
    AUTHENTICATION_BACKENDS=["ion_oauth.oidc.IonOpenIdConnect", MODEL_BACKEND],
    SOCIAL_AUTH_ION_OIDC_KEY="ion-sandbox-oidc",
    SOCIAL_AUTH_ION_BASE_URL="https://ion.tjhsst.edu/",
)
def test_e017_covers_the_oidc_backend_too():
    [error] = check_sandbox_credentials()

    assert error.id == "ion_oauth.E017"
    assert "SOCIAL_AUTH_ION_OIDC_KEY" in error.msg
    assert "SOCIAL_AUTH_ION_OIDC_BASE_URL" in error.hint


@override_settings(
    AUTHENTICATION_BACKENDS=["ion_oauth.oidc.IonOpenIdConnect", MODEL_BACKEND],
    SOCIAL_AUTH_ION_OIDC_KEY="ion-sandbox-oidc",
    SOCIAL_AUTH_ION_BASE_URL="http://127.0.0.1:8080",
)
def test_e017_the_oidc_backend_falls_back_to_the_oauth2_base_url():
    assert check_sandbox_credentials() == []


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080", "http://localhost:8080/", "http://[::1]:8080"]
)
def test_e020_a_loopback_ion_with_debug_off(settings, url):
    """Guards against a site in production trusting whoever binds a local port as Ion."""
    settings.SOCIAL_AUTH_ION_BASE_URL = url

    [error] = every_check()

    assert error.id == "ion_oauth.E020"
    assert error.msg.startswith(f"SOCIAL_AUTH_ION_BASE_URL {url.rstrip('/')!r} is on loopback")


def test_e020_the_oidc_backends_own_loopback_ion(settings):
    settings.AUTHENTICATION_BACKENDS = OIDC
    settings.SOCIAL_AUTH_ION_OIDC_BASE_URL = "http://127.0.0.1:8080"

    assert ids(check_production()) == ["ion_oauth.E020"]
    assert "SOCIAL_AUTH_ION_OIDC_BASE_URL" in check_production()[0].msg


def test_a_loopback_ion_is_fine_while_debug_is_on(settings):
    settings.DEBUG = True
    settings.SOCIAL_AUTH_ION_BASE_URL = "http://127.0.0.1:8080"
    settings.SOCIAL_AUTH_ION_SECRET = "ion-sandbox-secret"

    assert check_production() == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SOCIAL_AUTH_ION_KEY", "ion-sandbox-client"),
        ("SOCIAL_AUTH_ION_SECRET", "ion-sandbox-secret"),
        ("SOCIAL_AUTH_ION_OIDC_KEY", "ion-sandbox-oidc"),
        ("SOCIAL_AUTH_ION_OIDC_SECRET", "ion-sandbox-oidc-secret"),
    ],
)
def test_e021_the_sandboxs_published_credentials_with_debug_off(settings, name, value):
    setattr(settings, name, value)

    [error] = check_production()

    assert error.id == "ion_oauth.E021"
    assert error.msg.startswith(f"{name} hold the Ion sandbox's published client credentials")


def test_w011_redirects_not_sanitized(settings):
    settings.SOCIAL_AUTH_SANITIZE_REDIRECTS = False

    [warning] = check_redirects()

    assert warning.id == "ion_oauth.W011"
