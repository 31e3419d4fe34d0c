"""ion_oauth.security_checks: one test per check id, and one that ``manage.py check`` runs them."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from ion_oauth.security_checks import (
    check_associate_oauth2_user,
    check_oidc_client,
    check_oidc_pipeline,
    check_production,
    check_redirects,
)

OIDC = ["ion_oauth.oauth.IonOauth2", "ion_oauth.oidc.IonOpenIdConnect"]
PIPELINE = [
    "social_core.pipeline.social_auth.social_details",
    "social_core.pipeline.social_auth.social_uid",
    "social_core.pipeline.social_auth.social_user",
    "social_core.pipeline.social_auth.associate_user",
]


def every_check() -> list:
    return (
        check_production()
        + check_oidc_client()
        + check_oidc_pipeline()
        + check_redirects()
        + check_associate_oauth2_user()
    )


def ids(messages) -> list[str]:
    return [m.id for m in messages]


def test_the_test_site_passes_every_check():
    assert every_check() == []


@pytest.mark.django_db
def test_manage_py_check_runs_the_checks():
    with (
        override_settings(SOCIAL_AUTH_ION_SECRET="ion-sandbox-secret"),
        pytest.raises(SystemCheckError) as caught,
    ):
        call_command("check")

    assert "ion_oauth.E021" in str(caught.value)


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


@pytest.mark.parametrize(
    "pkce_settings",
    [{"SOCIAL_AUTH_ION_OIDC_USE_PKCE": False}, {"SOCIAL_AUTH_ION_USE_PKCE": False}],
)
def test_e022_an_oidc_client_without_secret_or_pkce(settings, pkce_settings):
    """Guards against the OIDC client getting only a warning where OAuth2's gets E003."""
    settings.AUTHENTICATION_BACKENDS = OIDC
    settings.SOCIAL_AUTH_ION_OIDC_KEY = "oidc-client"
    for name, value in pkce_settings.items():
        setattr(settings, name, value)

    [error] = check_oidc_client()

    assert error.id == "ion_oauth.E022"


def test_an_oidc_client_without_secret_is_fine_with_pkce(settings):
    settings.AUTHENTICATION_BACKENDS = OIDC
    settings.SOCIAL_AUTH_ION_USE_PKCE = False
    settings.SOCIAL_AUTH_ION_OIDC_USE_PKCE = True

    assert check_oidc_client() == []


def test_e023_an_oidc_pipeline_without_the_steps_a_login_needs(settings):
    settings.AUTHENTICATION_BACKENDS = OIDC
    settings.SOCIAL_AUTH_ION_OIDC_PIPELINE = PIPELINE[:2]

    [error] = check_oidc_pipeline()

    assert error.id == "ion_oauth.E023"
    assert "social_details" not in error.msg
    assert error.msg.endswith(
        "social_core.pipeline.social_auth.social_user, "
        "social_core.pipeline.social_auth.associate_user."
    )


def test_w010_associate_by_email_in_the_oidc_pipeline(settings):
    """Guards against the backend-specific pipeline escaping W004."""
    settings.AUTHENTICATION_BACKENDS = OIDC
    settings.SOCIAL_AUTH_ION_OIDC_PIPELINE = [
        *PIPELINE,
        "social_core.pipeline.social_auth.associate_by_email",
    ]

    [warning] = check_oidc_pipeline()

    assert warning.id == "ion_oauth.W010"


def test_an_oidc_pipeline_is_not_checked_without_the_oidc_backend(settings):
    settings.SOCIAL_AUTH_ION_OIDC_PIPELINE = ["social_core.pipeline.social_auth.associate_by_email"]

    assert check_oidc_pipeline() == []


def test_w011_redirects_not_sanitized(settings):
    settings.SOCIAL_AUTH_SANITIZE_REDIRECTS = False

    [warning] = check_redirects()

    assert warning.id == "ion_oauth.W011"


@pytest.mark.parametrize(
    "pipeline_setting", ["SOCIAL_AUTH_PIPELINE", "SOCIAL_AUTH_ION_OIDC_PIPELINE"]
)
def test_w012_associate_oauth2_user_across_two_ions(settings, pipeline_setting):
    settings.AUTHENTICATION_BACKENDS = OIDC
    settings.SOCIAL_AUTH_ION_OIDC_BASE_URL = "https://sandbox.example.test"
    setattr(settings, pipeline_setting, [*PIPELINE, "ion_oauth.pipeline.associate_oauth2_user"])

    [warning] = check_associate_oauth2_user()

    assert warning.id == "ion_oauth.W012"
    assert "https://sandbox.example.test" in warning.msg


def test_associate_oauth2_user_with_one_ion_is_fine(settings):
    settings.SOCIAL_AUTH_ION_OIDC_BASE_URL = settings.SOCIAL_AUTH_ION_BASE_URL + "/"
    settings.SOCIAL_AUTH_PIPELINE = [*PIPELINE, "ion_oauth.pipeline.associate_oauth2_user"]

    assert check_associate_oauth2_user() == []
