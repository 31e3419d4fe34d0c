"""ion_oauth.checks.settings: one test per check id, each failing and passing, and every
message word for word."""

from __future__ import annotations

import pytest
from check_messages import ERROR, WARNING, Pinned, assert_word_for_word
from django.test import override_settings

from ion_oauth.checks.pipeline import check_pipeline, check_pipeline_order
from ion_oauth.checks.settings import check_oidc, check_oidc_client, check_roles, check_settings

BOTH = ["ion_oauth.oauth.IonOauth2", "ion_oauth.oidc.IonOpenIdConnect"]


def ids(messages) -> list[str]:
    return [m.id for m in messages]


def test_the_test_site_passes_every_check():
    assert check_settings() + check_roles() + check_oidc() + check_oidc_client() == []


@override_settings(AUTHENTICATION_BACKENDS=["django.contrib.auth.backends.ModelBackend"])
def test_e001_no_ion_backend():
    [error] = check_settings()

    assert error.id == "ion_oauth.E001"
    assert "ion_oauth.oauth.IonOauth2" in error.hint


@override_settings(AUTHENTICATION_BACKENDS=["ion_oauth.oidc.IonOpenIdConnect"])
def test_the_oidc_backend_alone_satisfies_e001():
    assert "ion_oauth.E001" not in ids(check_settings())


@override_settings(SOCIAL_AUTH_ION_KEY=None)
def test_e002_key_missing():
    [error] = check_settings()

    assert error.id == "ion_oauth.E002"
    assert "SOCIAL_AUTH_ION_KEY" in error.msg


@override_settings(SOCIAL_AUTH_ION_SECRET="")
def test_w001_secret_missing_is_a_warning_while_pkce_is_on():
    [warning] = check_settings()

    assert warning.id == "ion_oauth.W001"
    assert "SOCIAL_AUTH_ION_SECRET" in warning.msg


@override_settings(SOCIAL_AUTH_ION_SECRET="", SOCIAL_AUTH_ION_USE_PKCE=False)
def test_e003_no_secret_and_no_pkce():
    [error] = check_settings()

    assert error.id == "ion_oauth.E003"


def test_e004_social_django_not_installed(settings):
    settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS if a != "social_django"]

    assert "ion_oauth.E004" in ids(check_settings())


@pytest.mark.parametrize("url", ["ion.tjhsst.edu", "ftp://ion.tjhsst.edu", ""])
def test_e005_base_url_not_an_http_url(settings, url):
    settings.SOCIAL_AUTH_ION_BASE_URL = url

    assert ids(check_settings()) == ["ion_oauth.E005"]


def test_e006_plain_http_outside_debug(settings):
    settings.SOCIAL_AUTH_ION_BASE_URL = "http://ion.tjhsst.edu"

    [error] = check_settings()

    assert error.id == "ion_oauth.E006"
    assert "SOCIAL_AUTH_ION_BASE_URL" in error.msg


@pytest.mark.parametrize(
    ("url", "debug"),
    [
        ("http://127.0.0.1:8080", False),
        ("http://localhost:8080", False),
        ("http://dev-ion.example.test", True),
    ],
)
def test_plain_http_is_fine_on_loopback_or_in_debug(settings, url, debug):
    settings.SOCIAL_AUTH_ION_BASE_URL = url
    settings.DEBUG = debug

    assert check_settings() == []


@pytest.mark.parametrize("timeout", [0, -1, "soon", None])
def test_e007_timeout_not_a_positive_number(settings, timeout):
    settings.SOCIAL_AUTH_ION_TIMEOUT = timeout

    assert ids(check_settings()) == ["ion_oauth.E007"]


def test_a_timeout_under_a_second_is_fine(settings):
    settings.SOCIAL_AUTH_ION_TIMEOUT = 0.5

    assert check_settings() == []


@pytest.mark.parametrize("max_idle", [-0.5, "soon", None])
def test_e018_max_idle_not_a_number_of_seconds(settings, max_idle):
    settings.SOCIAL_AUTH_ION_MAX_IDLE = max_idle

    [error] = check_settings()

    assert error.id == "ion_oauth.E018"
    assert error.msg == "SOCIAL_AUTH_ION_MAX_IDLE must be a number of seconds, 0 or more."


@pytest.mark.parametrize("max_idle", [0, 0.5, "30"])
def test_max_idle_of_zero_or_more_seconds_is_fine(settings, max_idle):
    settings.SOCIAL_AUTH_ION_MAX_IDLE = max_idle

    assert check_settings() == []


def test_w002_openid_in_the_oauth2_scope(settings):
    settings.SOCIAL_AUTH_ION_SCOPE = ["read", "openid"]

    [warning] = check_settings()

    assert warning.id == "ion_oauth.W002"
    assert "ion_oauth.oidc.IonOpenIdConnect" in warning.hint


@pytest.mark.parametrize("name", ["ROLE_GROUPS", "STAFF_ROLES", "SUPERUSER_ROLES"])
def test_e008_unknown_role_names(settings, name):
    setattr(
        settings,
        f"SOCIAL_AUTH_ION_{name}",
        {"teachers": "x"} if name == "ROLE_GROUPS" else ["teachers"],
    )

    [error] = check_roles()

    assert error.id == "ion_oauth.E008"
    assert "teachers" in error.msg


# -- the OpenID Connect backend -------------------------------------------------------------


def test_oidc_checks_do_nothing_without_the_oidc_backend(settings):
    settings.SOCIAL_AUTH_ION_OIDC_BASE_URL = "ftp://nowhere"

    assert check_oidc() == []


def test_a_configured_oidc_only_site_passes_and_needs_no_oauth2_key(oidc_site):
    del oidc_site.SOCIAL_AUTH_ION_KEY

    assert check_settings() + check_oidc() == []


def test_e010_oidc_key_missing(oidc_site):
    oidc_site.SOCIAL_AUTH_ION_OIDC_KEY = ""

    assert ids(check_oidc()) == ["ion_oauth.E010"]


def test_w005_oidc_secret_missing(oidc_site):
    del oidc_site.SOCIAL_AUTH_ION_OIDC_SECRET

    assert ids(check_oidc()) == ["ion_oauth.W005"]


@pytest.mark.parametrize("url", ["nope", "http://ion.example.test"])
def test_e011_oidc_base_url_unusable_or_clear_text(oidc_site, url):
    oidc_site.SOCIAL_AUTH_ION_OIDC_BASE_URL = url

    [error] = check_oidc()

    assert error.id == "ion_oauth.E011"
    assert "SOCIAL_AUTH_ION_OIDC_BASE_URL" in error.msg


def test_e012_oidc_scope_without_profile(oidc_site):
    oidc_site.SOCIAL_AUTH_ION_OIDC_IGNORE_DEFAULT_SCOPE = True
    oidc_site.SOCIAL_AUTH_ION_OIDC_SCOPE = ["openid", "email"]

    assert ids(check_oidc()) == ["ion_oauth.E012"]


def test_an_oidc_scope_of_its_own_with_profile_passes(oidc_site):
    oidc_site.SOCIAL_AUTH_ION_OIDC_IGNORE_DEFAULT_SCOPE = True
    oidc_site.SOCIAL_AUTH_ION_OIDC_SCOPE = ["openid", "profile"]

    assert check_oidc() == []


@pytest.mark.parametrize("group_map", [["admins"], {"admins": ""}, {1: "Admins"}])
def test_e013_oidc_group_map_not_names_to_names(oidc_site, group_map):
    oidc_site.SOCIAL_AUTH_ION_OIDC_GROUP_MAP = group_map

    assert ids(check_oidc()) == ["ion_oauth.E013"]


@pytest.mark.parametrize(
    "pkce_settings",
    [{"SOCIAL_AUTH_ION_OIDC_USE_PKCE": False}, {"SOCIAL_AUTH_ION_USE_PKCE": False}],
)
def test_e022_an_oidc_client_without_secret_or_pkce(settings, pkce_settings):
    """Guards against the OIDC client getting only a warning where OAuth2's gets E003."""
    settings.AUTHENTICATION_BACKENDS = BOTH
    settings.SOCIAL_AUTH_ION_OIDC_KEY = "oidc-client"
    for name, value in pkce_settings.items():
        setattr(settings, name, value)

    [error] = check_oidc_client()

    assert error.id == "ion_oauth.E022"


@pytest.mark.parametrize(
    "overrides",
    [
        {"SOCIAL_AUTH_ION_USE_PKCE": False, "SOCIAL_AUTH_ION_OIDC_USE_PKCE": True},
        {},
        {"SOCIAL_AUTH_ION_OIDC_SECRET": "oidc-secret", "SOCIAL_AUTH_ION_OIDC_USE_PKCE": False},
        {
            "AUTHENTICATION_BACKENDS": ["ion_oauth.oauth.IonOauth2"],
            "SOCIAL_AUTH_ION_OIDC_USE_PKCE": False,
        },
    ],
    ids=[
        "pkce-on-for-oidc-alone",
        "pkce-by-default",
        "a-secret-and-pkce-off",
        "no-oidc-backend-pkce-off",
    ],
)
def test_e022_says_nothing_when_the_oidc_client_is_proven_or_absent(settings, overrides):
    settings.AUTHENTICATION_BACKENDS = BOTH
    for name, value in overrides.items():
        setattr(settings, name, value)

    assert check_oidc_client() == []


# -- both Ion backends at once --------------------------------------------------------------


def test_with_both_backends_a_missing_oauth2_key_is_still_reported(oidc_site):
    oidc_site.AUTHENTICATION_BACKENDS = BOTH
    oidc_site.SOCIAL_AUTH_ION_KEY = ""

    assert ids(check_settings()) == ["ion_oauth.E002"]


def test_with_both_backends_a_missing_oauth2_secret_is_still_reported(oidc_site):
    oidc_site.AUTHENTICATION_BACKENDS = BOTH
    del oidc_site.SOCIAL_AUTH_ION_SECRET

    assert ids(check_settings()) == ["ion_oauth.W001"]


def test_with_both_backends_configured_every_check_passes(oidc_site):
    oidc_site.AUTHENTICATION_BACKENDS = BOTH

    assert (
        check_settings() + check_roles() + check_pipeline() + check_pipeline_order() + check_oidc()
        == []
    )


# -- every message, word for word: a site's administrator acts on these -------------------

OIDC = {
    "AUTHENTICATION_BACKENDS": ["ion_oauth.oidc.IonOpenIdConnect"],
    "SOCIAL_AUTH_ION_OIDC_KEY": "oidc-client",
    "SOCIAL_AUTH_ION_OIDC_SECRET": "oidc-secret",
}

PINNED: dict[str, Pinned] = {
    "E001": (
        check_settings,
        {"AUTHENTICATION_BACKENDS": ["django.contrib.auth.backends.ModelBackend"]},
        ERROR,
        "No Ion backend is in AUTHENTICATION_BACKENDS.",
        "Add 'ion_oauth.oauth.IonOauth2' to AUTHENTICATION_BACKENDS.",
    ),
    "E002": (
        check_settings,
        {"SOCIAL_AUTH_ION_KEY": ""},
        ERROR,
        "SOCIAL_AUTH_ION_KEY is not set.",
        "Set it to the client id of your application on Ion (OAuth Management on Ion, "
        "or the one the sandbox prints).",
    ),
    "W001": (
        check_settings,
        {"SOCIAL_AUTH_ION_SECRET": ""},
        WARNING,
        "SOCIAL_AUTH_ION_SECRET is not set, so logins work only for a public client on Ion.",
        "Set SOCIAL_AUTH_ION_SECRET to your application's client secret, unless it is "
        "registered on Ion as a public client.",
    ),
    "E003": (
        check_settings,
        {"SOCIAL_AUTH_ION_SECRET": "", "SOCIAL_AUTH_ION_USE_PKCE": False},
        ERROR,
        "SOCIAL_AUTH_ION_SECRET is not set and SOCIAL_AUTH_ION_USE_PKCE is off: nothing "
        "proves the login is this site's.",
        "Set SOCIAL_AUTH_ION_SECRET, or turn SOCIAL_AUTH_ION_USE_PKCE back on.",
    ),
    "E004": (
        check_settings,
        {"INSTALLED_APPS": ["django.contrib.auth", "django.contrib.contenttypes", "ion_oauth"]},
        ERROR,
        "'social_django' is not in INSTALLED_APPS.",
        "Add 'social_django' to INSTALLED_APPS and run migrate; it stores the link between "
        "Ion accounts and users.",
    ),
    "E005": (
        check_settings,
        {"SOCIAL_AUTH_ION_BASE_URL": "ftp://ion.tjhsst.edu"},
        ERROR,
        "SOCIAL_AUTH_ION_BASE_URL 'ftp://ion.tjhsst.edu' is not an http(s) URL.",
        "Use https://ion.tjhsst.edu, or the URL of your development Ion.",
    ),
    "E006": (
        check_settings,
        {"SOCIAL_AUTH_ION_BASE_URL": "http://ion.tjhsst.edu"},
        ERROR,
        "SOCIAL_AUTH_ION_BASE_URL 'http://ion.tjhsst.edu' is not https while DEBUG is off: "
        "access tokens would cross the network in clear text.",
        "Use an https:// URL for SOCIAL_AUTH_ION_BASE_URL.",
    ),
    "E007": (
        check_settings,
        {"SOCIAL_AUTH_ION_TIMEOUT": 0},
        ERROR,
        "SOCIAL_AUTH_ION_TIMEOUT must be a positive number of seconds.",
        "Remove it to use the default of 10 seconds.",
    ),
    "W002": (
        check_settings,
        {"SOCIAL_AUTH_ION_SCOPE": ["read", "openid"]},
        WARNING,
        "SOCIAL_AUTH_ION_SCOPE asks for 'openid': the OAuth2 backend leaves it out, because "
        "Ion answers a non-OIDC application that asks for it with HTTP 500.",
        "Remove 'openid' from SOCIAL_AUTH_ION_SCOPE; for OpenID Connect use "
        "'ion_oauth.oidc.IonOpenIdConnect'.",
    ),
    "E008": (
        check_roles,
        {"SOCIAL_AUTH_ION_STAFF_ROLES": ["teachers", "admins"]},
        ERROR,
        "SOCIAL_AUTH_ION_STAFF_ROLES names unknown roles: admins, teachers.",
        "Use only student, teacher, eighth_admin.",
    ),
    "E010": (
        check_oidc,
        {**OIDC, "SOCIAL_AUTH_ION_OIDC_KEY": ""},
        ERROR,
        "SOCIAL_AUTH_ION_OIDC_KEY is not set.",
        "Set it to the client id of an application on Ion with OpenID Connect enabled "
        "(the sandbox's is 'ion-sandbox-oidc').",
    ),
    "W005": (
        check_oidc,
        {**OIDC, "SOCIAL_AUTH_ION_OIDC_SECRET": ""},
        WARNING,
        "SOCIAL_AUTH_ION_OIDC_SECRET is not set, so OpenID Connect logins work only for a "
        "public client on Ion.",
        "Set SOCIAL_AUTH_ION_OIDC_SECRET to the OIDC application's client secret.",
    ),
    "E011": (
        check_oidc,
        {**OIDC, "SOCIAL_AUTH_ION_OIDC_BASE_URL": "nope"},
        ERROR,
        "SOCIAL_AUTH_ION_OIDC_BASE_URL 'nope' is not an http(s) URL.",
        "Use https://ion.tjhsst.edu, or the URL of your development Ion.",
    ),
    "E011 (clear text)": (
        check_oidc,
        {**OIDC, "SOCIAL_AUTH_ION_OIDC_BASE_URL": "http://ion.example.test"},
        ERROR,
        "SOCIAL_AUTH_ION_OIDC_BASE_URL 'http://ion.example.test' is not https while DEBUG is "
        "off: access tokens would cross the network in clear text.",
        "Use an https:// URL for SOCIAL_AUTH_ION_OIDC_BASE_URL.",
    ),
    "E012": (
        check_oidc,
        {
            **OIDC,
            "SOCIAL_AUTH_ION_OIDC_IGNORE_DEFAULT_SCOPE": True,
            "SOCIAL_AUTH_ION_OIDC_SCOPE": ["openid"],
        },
        ERROR,
        "SOCIAL_AUTH_ION_OIDC_SCOPE leaves out 'profile', so Ion's ID token carries no "
        "preferred_username and every login fails.",
        "Add 'profile' to SOCIAL_AUTH_ION_OIDC_SCOPE.",
    ),
    "E018": (
        check_settings,
        {"SOCIAL_AUTH_ION_MAX_IDLE": -1},
        ERROR,
        "SOCIAL_AUTH_ION_MAX_IDLE must be a number of seconds, 0 or more.",
        "Remove it to use the default of 1.5 seconds; 0 opens a new connection to Ion for "
        "every request.",
    ),
    "E022": (
        check_oidc_client,
        {"AUTHENTICATION_BACKENDS": BOTH, "SOCIAL_AUTH_ION_OIDC_USE_PKCE": False},
        ERROR,
        "SOCIAL_AUTH_ION_OIDC_SECRET is not set and PKCE is off for OpenID Connect: nothing "
        "proves the login is this site's.",
        "Set SOCIAL_AUTH_ION_OIDC_SECRET, or turn SOCIAL_AUTH_ION_OIDC_USE_PKCE (or "
        "SOCIAL_AUTH_ION_USE_PKCE) back on.",
    ),
    "E013": (
        check_oidc,
        {**OIDC, "SOCIAL_AUTH_ION_OIDC_GROUP_MAP": {"admin_all": ""}},
        ERROR,
        "SOCIAL_AUTH_ION_OIDC_GROUP_MAP must map Ion group names to Django group names.",
        "For example {'admin_all': 'Ion admins'}.",
    ),
}


@pytest.mark.parametrize("case", list(PINNED))
def test_each_message_word_for_word(settings, case):
    assert_word_for_word(settings, case, PINNED[case])
