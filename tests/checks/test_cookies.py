"""ion_oauth.checks.cookies: the session cookie a login needs (E030-E032, W020)."""

from __future__ import annotations

import pytest
from check_messages import ERROR, WARNING, Pinned, assert_word_for_word
from django.core.checks import Error, Warning

from ion_oauth.checks.cookies import check_cookies, samesite


def ids(messages):
    return [m.id for m in messages]


def test_the_test_site_passes():
    assert check_cookies() == []


def test_e030_strict_samesite_is_an_error(settings):
    settings.SESSION_COOKIE_SAMESITE = "Strict"

    [error] = check_cookies()

    assert isinstance(error, Error)
    assert error.id == "ion_oauth.E030"
    assert "SESSION_COOKIE_SAMESITE" in error.msg
    assert "'Lax'" in error.hint


def test_e030_reads_samesite_case_insensitively(settings):
    settings.SESSION_COOKIE_SAMESITE = "strict"

    assert ids(check_cookies()) == ["ion_oauth.E030"]


def test_e031_samesite_none_without_secure(settings):
    settings.SESSION_COOKIE_SAMESITE = "None"
    settings.SESSION_COOKIE_SECURE = False

    [error] = check_cookies()

    assert error.id == "ion_oauth.E031"
    assert "SESSION_COOKIE_SECURE" in error.hint


def test_samesite_none_with_secure_is_fine(settings):
    settings.SESSION_COOKIE_SAMESITE = "None"
    settings.SESSION_COOKIE_SECURE = True

    assert check_cookies() == []


@pytest.mark.parametrize(
    ("value", "read"), [(False, ""), (None, ""), ("Lax", "Lax"), ("lax", "Lax"), (" LAX ", "Lax")]
)
def test_lax_or_no_attribute_is_fine(settings, value, read):
    settings.SESSION_COOKIE_SAMESITE = value

    assert check_cookies() == []
    assert samesite() == read


def test_e032_a_samesite_value_browsers_do_not_know(settings):
    settings.SESSION_COOKIE_SAMESITE = "Relaxed"

    [error] = check_cookies()

    assert error.id == "ion_oauth.E032"
    assert "'Relaxed'" in error.msg


def test_w020_secure_cookie_while_debug(settings):
    settings.SESSION_COOKIE_SECURE = True
    settings.DEBUG = True

    [warning] = check_cookies()

    assert isinstance(warning, Warning)
    assert warning.id == "ion_oauth.W020"


def test_secure_cookie_outside_debug_is_fine(settings):
    settings.SESSION_COOKIE_SECURE = True
    settings.DEBUG = False

    assert check_cookies() == []


def test_nothing_is_checked_without_an_ion_backend(settings):
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
    settings.SESSION_COOKIE_SAMESITE = "Strict"

    assert check_cookies() == []


def test_the_oidc_backend_alone_is_checked_too(settings):
    settings.AUTHENTICATION_BACKENDS = ["ion_oauth.oidc.IonOpenIdConnect"]
    settings.SESSION_COOKIE_SAMESITE = "Strict"

    assert ids(check_cookies()) == ["ion_oauth.E030"]


# -- every message, word for word: a site's administrator acts on these -------------------

PINNED: dict[str, Pinned] = {
    "E030": (
        check_cookies,
        {"SESSION_COOKIE_SAMESITE": "Strict"},
        ERROR,
        "SESSION_COOKIE_SAMESITE is 'Strict': the browser does not send the session cookie on "
        "the way back from Ion, so every Ion login fails with the state missing.",
        "Set SESSION_COOKIE_SAMESITE = 'Lax' (Django's default).",
    ),
    "E031": (
        check_cookies,
        {"SESSION_COOKIE_SAMESITE": "None", "SESSION_COOKIE_SECURE": False},
        ERROR,
        "SESSION_COOKIE_SAMESITE is 'None' without SESSION_COOKIE_SECURE: browsers refuse such "
        "a cookie, so no login can be finished.",
        "Set SESSION_COOKIE_SAMESITE = 'Lax' (Django's default), or set SESSION_COOKIE_SECURE "
        "= True and serve the site over https.",
    ),
    "E032": (
        check_cookies,
        {"SESSION_COOKIE_SAMESITE": "relaxed"},
        ERROR,
        "SESSION_COOKIE_SAMESITE is 'Relaxed', which browsers do not know.",
        "Set SESSION_COOKIE_SAMESITE = 'Lax' (Django's default).",
    ),
    "W020": (
        check_cookies,
        {"SESSION_COOKIE_SECURE": True, "DEBUG": True},
        WARNING,
        "SESSION_COOKIE_SECURE is on while DEBUG is on: if you develop over plain http, the "
        "browser does not send the session cookie back and Ion logins fail with the state "
        "missing.",
        "Turn SESSION_COOKIE_SECURE off in development settings, or develop over https.",
    ),
}


@pytest.mark.parametrize("case", list(PINNED))
def test_each_message_word_for_word(settings, case):
    assert_word_for_word(settings, case, PINNED[case])
