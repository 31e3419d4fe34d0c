"""ion_oauth.checks.site: one test per id (E014-E016, W007), each failing and passing."""

from __future__ import annotations

import pytest
from check_messages import ERROR, WARNING, Pinned, assert_word_for_word
from django.test import override_settings

from ion_oauth.checks.site import (
    check_backend_paths,
    check_debug_errors,
    check_middleware,
    check_urls,
)

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def ids(messages) -> list[str]:
    return [m.id for m in messages]


def test_the_test_site_passes_every_site_check():
    checks = (check_backend_paths, check_debug_errors, check_middleware, check_urls)
    assert [message for check in checks for message in check()] == []


@override_settings(ROOT_URLCONF="testproject.no_social_urls")
def test_e014_social_auth_urls_not_mounted():
    [error] = check_urls()

    assert error.id == "ion_oauth.E014"
    assert "reverse('social:complete', args=['ion'])" in error.msg
    assert 'path("", include("ion_oauth.urls"))' in error.hint


@override_settings(ROOT_URLCONF="testproject.pages_urls")
def test_e014_is_satisfied_by_ion_oauth_urls():
    assert check_urls() == []


@override_settings(
    ROOT_URLCONF="testproject.no_social_urls", AUTHENTICATION_BACKENDS=[MODEL_BACKEND]
)
def test_e014_says_nothing_for_a_site_without_an_ion_backend():
    assert check_urls() == []


@override_settings(MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware"])
def test_e015_exception_middleware_missing():
    [error] = check_middleware()

    assert error.id == "ion_oauth.E015"
    assert "HTTP 500" in error.msg
    assert "social_django.middleware.SocialAuthExceptionMiddleware" in error.hint


@override_settings(MIDDLEWARE=["testproject.middleware.SiteExceptionMiddleware"])
def test_e015_accepts_a_subclass_of_the_exception_middleware():
    assert check_middleware() == []


@override_settings(MIDDLEWARE=["no.such.Middleware"])
def test_e015_ignores_a_middleware_that_does_not_import_and_still_asks_for_ours():
    assert ids(check_middleware()) == ["ion_oauth.E015"]


@override_settings(MIDDLEWARE=[], AUTHENTICATION_BACKENDS=[MODEL_BACKEND])
def test_e015_says_nothing_for_a_site_without_an_ion_backend():
    assert check_middleware() == []


@pytest.mark.parametrize(
    ("entry", "meant"),
    [
        ("ion_oauth.oauth.IonOAuth2", "ion_oauth.oauth.IonOauth2"),
        ("ion_oauth.oauth2.IonOauth2", "ion_oauth.oauth.IonOauth2"),
        ("ion_oauth.oidc.IonOpenIDConnect", "ion_oauth.oidc.IonOpenIdConnect"),
        ("ion-oauth.oauth.IonOauth2", "ion_oauth.oauth.IonOauth2"),
        # Not starting with the package's name, but close to a backend's path.
        ("ion_oath.oauth.IonOauth2", "ion_oauth.oauth.IonOauth2"),
        # Starting with the package's name, far from either path: the closer one is named.
        ("ion_oauth.Backend", "ion_oauth.oidc.IonOpenIdConnect"),
        ("ion-oauth.Backend", "ion_oauth.oidc.IonOpenIdConnect"),
        ("IonOAuth", "ion_oauth.oauth.IonOauth2"),
    ],
)
def test_e016_a_misspelt_ion_backend_is_named_with_the_right_one(settings, entry, meant):
    settings.AUTHENTICATION_BACKENDS = [entry, MODEL_BACKEND]

    [error] = check_backend_paths()

    assert error.id == "ion_oauth.E016"
    assert f"'{entry}'" in error.msg
    assert f"'{meant}'" in error.hint


@override_settings(
    AUTHENTICATION_BACKENDS=[
        "ion_oauth.oauth.IonOauth2",
        "django.contrib.auth.backends.AllowAllUsersModelBackend",
        "someone.elses.AuthenticationBackend",
    ]
)
def test_e016_leaves_other_backends_to_django():
    assert check_backend_paths() == []


def test_e016_a_backend_of_the_sites_own_that_resembles_ours_is_left_to_django(settings):
    settings.AUTHENTICATION_BACKENDS = ["myapp.oidc.IonOpenIdConnect2"]

    assert check_backend_paths() == []


def test_e016_looks_at_every_entry(settings):
    settings.AUTHENTICATION_BACKENDS = [MODEL_BACKEND, "ion_oauth.oauth.IonOAuth2"]

    assert ids(check_backend_paths()) == ["ion_oauth.E016"]


def test_e016_leaves_an_entry_that_is_not_a_dotted_path_to_django(settings):
    settings.AUTHENTICATION_BACKENDS = [object(), "ion_oauth.oauth.IonOauth2"]

    assert check_backend_paths() == []


@override_settings(DEBUG=True)
def test_w007_debug_on_and_raise_exceptions_unset():
    [warning] = check_debug_errors()

    assert warning.id == "ion_oauth.W007"
    assert "debug page" in warning.msg
    assert "SOCIAL_AUTH_RAISE_EXCEPTIONS = False" in warning.hint


@pytest.mark.parametrize(
    "name", ["SOCIAL_AUTH_RAISE_EXCEPTIONS", "SOCIAL_AUTH_ION_RAISE_EXCEPTIONS"]
)
def test_w007_is_satisfied_once_raise_exceptions_is_set(settings, name):
    settings.DEBUG = True
    setattr(settings, name, False)

    assert check_debug_errors() == []


@override_settings(DEBUG=True, AUTHENTICATION_BACKENDS=[MODEL_BACKEND])
def test_w007_says_nothing_for_a_site_without_an_ion_backend():
    assert check_debug_errors() == []


# -- every message, word for word: a site's administrator acts on these -------------------

EXCEPTION_MIDDLEWARE = "social_django.middleware.SocialAuthExceptionMiddleware"

PINNED: dict[str, Pinned] = {
    "E014": (
        check_urls,
        {"ROOT_URLCONF": "testproject.no_social_urls"},
        ERROR,
        "social-auth's URLs are not mounted: reverse('social:complete', args=['ion']) fails, "
        "so the login button cannot work.",
        'Add path("", include("ion_oauth.urls")) to your urls.py (it also gives /login/, '
        "/login-error/ and /logout/), or social-auth's own "
        'path("", include("social_django.urls", namespace="social")).',
    ),
    "E015": (
        check_middleware,
        {"MIDDLEWARE": []},
        ERROR,
        f"'{EXCEPTION_MIDDLEWARE}' is not in MIDDLEWARE, so a failed or cancelled login is a "
        "server error (HTTP 500) instead of a message on LOGIN_ERROR_URL.",
        f"Add '{EXCEPTION_MIDDLEWARE}' at the end of MIDDLEWARE.",
    ),
    "E016": (
        check_backend_paths,
        {"AUTHENTICATION_BACKENDS": ["ion_oauth.oidc.IonOpenIDConnect"]},
        ERROR,
        "AUTHENTICATION_BACKENDS names 'ion_oauth.oidc.IonOpenIDConnect', which does not import.",
        "Did you mean 'ion_oauth.oidc.IonOpenIdConnect'? (Python names are case-sensitive.)",
    ),
    "W007": (
        check_debug_errors,
        {"DEBUG": True},
        WARNING,
        "DEBUG is on and SOCIAL_AUTH_RAISE_EXCEPTIONS is not set, so a failed or cancelled "
        "login shows Django's debug page instead of its message on LOGIN_ERROR_URL.",
        "Set SOCIAL_AUTH_RAISE_EXCEPTIONS = False to see what your users will see.",
    ),
}


@pytest.mark.parametrize("case", list(PINNED))
def test_each_message_word_for_word(settings, case):
    assert_word_for_word(settings, case, PINNED[case])
