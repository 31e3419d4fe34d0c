"""ion_oauth.checks.security: one test per check id (E017, E020, E021, W011), each failing
and passing."""

from __future__ import annotations

import pytest
from check_messages import ERROR, UNSET, WARNING, Pinned, assert_word_for_word
from django.test import override_settings

from ion_oauth.checks.security import check_production, check_redirects, check_sandbox_credentials

OIDC = ["ion_oauth.oauth.IonOauth2", "ion_oauth.oidc.IonOpenIdConnect"]
BOTH = OIDC

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


def test_e017_the_oidc_backend_reads_its_own_base_url_first(settings):
    settings.AUTHENTICATION_BACKENDS = BOTH
    settings.SOCIAL_AUTH_ION_OIDC_KEY = "ion-sandbox-oidc"
    settings.SOCIAL_AUTH_ION_OIDC_BASE_URL = "http://127.0.0.1:8080"
    del settings.SOCIAL_AUTH_ION_BASE_URL

    assert check_sandbox_credentials() == []


def test_e017_checks_the_oidc_client_after_a_real_oauth2_one(settings):
    settings.AUTHENTICATION_BACKENDS = BOTH
    settings.SOCIAL_AUTH_ION_KEY = "a-real-client-id"
    settings.SOCIAL_AUTH_ION_OIDC_KEY = "ion-sandbox-oidc"
    del settings.SOCIAL_AUTH_ION_BASE_URL

    [error] = check_sandbox_credentials()

    assert error.msg.startswith("SOCIAL_AUTH_ION_OIDC_KEY ")


def test_e017_leaves_out_a_backend_that_is_not_listed_or_has_no_key(settings):
    settings.SOCIAL_AUTH_ION_OIDC_KEY = "ion-sandbox-oidc"  # the OIDC backend is not listed
    del settings.SOCIAL_AUTH_ION_KEY  # the OAuth2 one is, without a key
    del settings.SOCIAL_AUTH_ION_BASE_URL

    assert check_sandbox_credentials() == []


@pytest.mark.parametrize("url", ["https://ion.tjhsst.edu", "https://ion.tjhsst.edu//"])
def test_e017_the_real_ion_with_or_without_trailing_slashes(settings, url):
    settings.SOCIAL_AUTH_ION_KEY = "ion-sandbox-client"
    settings.SOCIAL_AUTH_ION_BASE_URL = url

    assert ids(check_sandbox_credentials()) == ["ion_oauth.E017"]


def test_e017_another_ion_whose_path_ends_like_the_real_one_is_not_the_real_one(settings):
    """Only slashes are stripped from the end of the URL before it is compared."""
    settings.SOCIAL_AUTH_ION_KEY = "ion-sandbox-client"
    settings.SOCIAL_AUTH_ION_BASE_URL = "https://ion.tjhsst.edu/X"

    assert check_sandbox_credentials() == []


def test_e020_the_oidc_backend_sharing_the_oauth2_ion_is_reported_once(settings):
    settings.AUTHENTICATION_BACKENDS = OIDC
    settings.SOCIAL_AUTH_ION_BASE_URL = "http://127.0.0.1:8080"

    [error] = check_production()

    assert error.msg.startswith("SOCIAL_AUTH_ION_BASE_URL ")


def test_e020_an_oidc_base_url_without_the_oidc_backend_is_not_checked(settings):
    settings.SOCIAL_AUTH_ION_OIDC_BASE_URL = "http://127.0.0.1:8080"

    assert check_production() == []


# -- every message, word for word: a site's administrator acts on these -------------------

PINNED: dict[str, Pinned] = {
    "E017": (
        check_sandbox_credentials,
        {"SOCIAL_AUTH_ION_KEY": "ion-sandbox-client", "SOCIAL_AUTH_ION_BASE_URL": UNSET},
        ERROR,
        "SOCIAL_AUTH_ION_KEY is the Ion sandbox's client id ('ion-sandbox-client'), but the "
        "login goes to the real Ion (https://ion.tjhsst.edu), which does not know it.",
        'Set SOCIAL_AUTH_ION_BASE_URL to the URL the sandbox printed (e.g. "http://127.0.0.1:'
        "8080\"), or use your application's id from Ion.",
    ),
    "E017 (OpenID Connect)": (
        check_sandbox_credentials,
        {
            "AUTHENTICATION_BACKENDS": ["ion_oauth.oidc.IonOpenIdConnect"],
            "SOCIAL_AUTH_ION_OIDC_KEY": "ion-sandbox-oidc",
            "SOCIAL_AUTH_ION_BASE_URL": UNSET,
        },
        ERROR,
        "SOCIAL_AUTH_ION_OIDC_KEY is the Ion sandbox's client id ('ion-sandbox-oidc'), but the "
        "login goes to the real Ion (https://ion.tjhsst.edu), which does not know it.",
        'Set SOCIAL_AUTH_ION_OIDC_BASE_URL to the URL the sandbox printed (e.g. "http://127.0.0'
        ".1:8080\"), or use your application's id from Ion.",
    ),
    "E020": (
        check_production,
        {"SOCIAL_AUTH_ION_BASE_URL": "http://127.0.0.1:8080/"},
        ERROR,
        "SOCIAL_AUTH_ION_BASE_URL 'http://127.0.0.1:8080' is on loopback while DEBUG is off: "
        "whoever on this host binds that port first becomes Ion and logs anyone in.",
        "Set SOCIAL_AUTH_ION_BASE_URL to your Ion (https://ion.tjhsst.edu), or run with DEBUG = "
        "True while developing against a local Ion.",
    ),
    "E020 (OpenID Connect)": (
        check_production,
        {"AUTHENTICATION_BACKENDS": OIDC, "SOCIAL_AUTH_ION_OIDC_BASE_URL": "http://localhost:8080"},
        ERROR,
        "SOCIAL_AUTH_ION_OIDC_BASE_URL 'http://localhost:8080' is on loopback while DEBUG is "
        "off: whoever on this host binds that port first becomes Ion and logs anyone in.",
        "Set SOCIAL_AUTH_ION_OIDC_BASE_URL to your Ion (https://ion.tjhsst.edu), or run with "
        "DEBUG = True while developing against a local Ion.",
    ),
    "E021": (
        check_production,
        {
            "SOCIAL_AUTH_ION_SECRET": "ion-sandbox-secret",
            "SOCIAL_AUTH_ION_KEY": "ion-sandbox-client",
        },
        ERROR,
        "SOCIAL_AUTH_ION_KEY, SOCIAL_AUTH_ION_SECRET hold the Ion sandbox's published client "
        "credentials while DEBUG is off.",
        "Register an application on Ion and use its client id and secret.",
    ),
    "W011": (
        check_redirects,
        {"SOCIAL_AUTH_SANITIZE_REDIRECTS": False},
        WARNING,
        "SOCIAL_AUTH_SANITIZE_REDIRECTS is False: a link to the Ion login can send the user to "
        "any site afterwards (an open redirect).",
        "Remove SOCIAL_AUTH_SANITIZE_REDIRECTS; list extra hosts in "
        "SOCIAL_AUTH_ALLOWED_REDIRECT_HOSTS instead.",
    ),
}


@pytest.mark.parametrize("case", list(PINNED))
def test_each_message_word_for_word(settings, case):
    assert_word_for_word(settings, case, PINNED[case])
