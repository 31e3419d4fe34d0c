"""System checks for the cookies a login needs (ids ``E030``-``E039``, ``W020``-``W029``).

A login starts on this site, goes to Ion and comes back: the browser must send the site's
session cookie on that way back, or the login ends in "state missing". These checks read
only settings; ``manage.py ion_doctor`` adds the ones that need the site's URL and Ion's
answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning

from ion_oauth.checks.common import ion_backends


def samesite() -> str:
    """``SESSION_COOKIE_SAMESITE`` as browsers read it: ``"Lax"``, ``"Strict"``, ``"None"``
    or ``""`` (no attribute, which browsers treat as Lax)."""
    value = getattr(settings, "SESSION_COOKIE_SAMESITE", "Lax")
    if value is False or value is None:
        return ""
    return str(value).strip().capitalize()


def cookie_errors() -> list[CheckMessage]:
    """The session-cookie settings that make every login fail, or may."""
    errors: list[CheckMessage] = []
    policy = samesite()
    secure = bool(getattr(settings, "SESSION_COOKIE_SECURE", False))
    if policy == "Strict":
        errors.append(
            Error(
                "SESSION_COOKIE_SAMESITE is 'Strict': the browser does not send the session "
                "cookie on the way back from Ion, so every Ion login fails with the state "
                "missing.",
                hint="Set SESSION_COOKIE_SAMESITE = 'Lax' (Django's default).",
                id="ion_oauth.E030",
            )
        )
    elif policy == "None" and not secure:
        errors.append(
            Error(
                "SESSION_COOKIE_SAMESITE is 'None' without SESSION_COOKIE_SECURE: browsers "
                "refuse such a cookie, so no login can be finished.",
                hint="Set SESSION_COOKIE_SAMESITE = 'Lax' (Django's default), or set "
                "SESSION_COOKIE_SECURE = True and serve the site over https.",
                id="ion_oauth.E031",
            )
        )
    elif policy not in ("", "Lax", "None"):
        errors.append(
            Error(
                f"SESSION_COOKIE_SAMESITE is {policy!r}, which browsers do not know.",
                hint="Set SESSION_COOKIE_SAMESITE = 'Lax' (Django's default).",
                id="ion_oauth.E032",
            )
        )
    if secure and settings.DEBUG:
        errors.append(
            Warning(
                "SESSION_COOKIE_SECURE is on while DEBUG is on: if you develop over plain "
                "http, the browser does not send the session cookie back and Ion logins fail "
                "with the state missing.",
                hint="Turn SESSION_COOKIE_SECURE off in development settings, or develop "
                "over https.",
                id="ion_oauth.W020",
            )
        )
    return errors


def check_cookies(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """The session cookie must come back from Ion (only when an Ion backend is on)."""
    if not ion_backends():
        return []
    return cookie_errors()
