"""System checks of how a site is wired around the Ion backends: the backend paths in
``AUTHENTICATION_BACKENDS``, social-auth's URLs, its exception middleware, and what ``DEBUG``
does to a failed login. Ids E014-E016 and W007.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string

from ion_oauth.checks.common import ION_BACKENDS, ion_backends

EXCEPTION_MIDDLEWARE = "social_django.middleware.SocialAuthExceptionMiddleware"


def _looks_like_ion(path: str) -> bool:
    lowered = path.lower()
    if lowered.replace("-", "_").startswith(("ion_oauth", "ionoauth")):
        return True
    return bool(difflib.get_close_matches(lowered, [b.lower() for b in ION_BACKENDS], cutoff=0.8))


def check_backend_paths(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """E016: an ``AUTHENTICATION_BACKENDS`` entry meant to be an Ion backend does not import."""
    errors: list[CheckMessage] = []
    for path in getattr(settings, "AUTHENTICATION_BACKENDS", []):
        if path in ION_BACKENDS or not isinstance(path, str) or not _looks_like_ion(path):
            continue
        try:
            import_string(path)
        except ImportError:
            lowered = {b.lower(): b for b in ION_BACKENDS}
            best = difflib.get_close_matches(path.lower(), list(lowered), n=1, cutoff=0)
            errors.append(
                Error(
                    f"AUTHENTICATION_BACKENDS names '{path}', which does not import.",
                    hint=f"Did you mean '{lowered[best[0]]}'? (Python names are case-sensitive.)",
                    id="ion_oauth.E016",
                )
            )
    return errors


def check_urls(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """E014: social-auth's URLs are not mounted, so the first click would be a NoReverseMatch."""
    if not ion_backends() or not apps.is_installed("social_django"):
        return []
    try:
        reverse("social:complete", args=["ion"])
    except NoReverseMatch:
        return [
            Error(
                "social-auth's URLs are not mounted: reverse('social:complete', args=['ion']) "
                "fails, so the login button cannot work.",
                hint='Add path("", include("ion_oauth.urls")) to your urls.py (it also gives '
                "/login/, /login-error/ and /logout/), or social-auth's own "
                'path("", include("social_django.urls", namespace="social")).',
                id="ion_oauth.E014",
            )
        ]
    return []


def _is_exception_middleware(path: str) -> bool:
    if path == EXCEPTION_MIDDLEWARE:
        return True
    from social_django.middleware import SocialAuthExceptionMiddleware

    try:
        middleware = import_string(path)
    except ImportError:
        return False  # Django itself reports a middleware that does not import
    return isinstance(middleware, type) and issubclass(middleware, SocialAuthExceptionMiddleware)


def check_middleware(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """E015: without SocialAuthExceptionMiddleware (or a subclass) failed logins are 500s."""
    if not ion_backends() or not apps.is_installed("social_django"):
        return []
    middleware = getattr(settings, "MIDDLEWARE", None) or []
    if any(_is_exception_middleware(path) for path in middleware):
        return []
    return [
        Error(
            f"'{EXCEPTION_MIDDLEWARE}' is not in MIDDLEWARE, so a failed or cancelled login "
            "is a server error (HTTP 500) instead of a message on LOGIN_ERROR_URL.",
            hint=f"Add '{EXCEPTION_MIDDLEWARE}' at the end of MIDDLEWARE.",
            id="ion_oauth.E015",
        )
    ]


def check_debug_errors(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """W007: with DEBUG on, social-auth re-raises login errors unless told not to."""
    if not ion_backends() or not getattr(settings, "DEBUG", False):
        return []
    names = ["SOCIAL_AUTH_RAISE_EXCEPTIONS", "SOCIAL_AUTH_ION_RAISE_EXCEPTIONS"]
    if any(hasattr(settings, name) for name in names):
        return []
    return [
        Warning(
            "DEBUG is on and SOCIAL_AUTH_RAISE_EXCEPTIONS is not set, so a failed or "
            "cancelled login shows Django's debug page instead of its message on "
            "LOGIN_ERROR_URL.",
            hint="Set SOCIAL_AUTH_RAISE_EXCEPTIONS = False to see what your users will see.",
            id="ion_oauth.W007",
        )
    ]
