"""System checks for a development setup meeting the real world: the Ion sandbox's
credentials sent to the real Ion or used with ``DEBUG`` off, an Ion on loopback in
production, and redirects to anywhere after a login. Ids E017, E020, E021 and W011.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning

from ion_oauth.checks.common import (
    LOOPBACK_HOSTS,
    OAUTH2_BACKEND,
    OIDC_BACKEND,
    backends,
    base_url,
    ion_backends,
    setting,
)
from ion_oauth.conf import DEFAULTS

#: The client ids ``python -m ion_oauth.sandbox`` registers unless told otherwise.
SANDBOX_CLIENT_PREFIX = "ion-sandbox"
#: The client ids and secrets the Ion sandbox prints and the README publishes.
SANDBOX_CREDENTIALS = {
    "KEY": "ion-sandbox-client",
    "SECRET": "ion-sandbox-secret",
    "OIDC_KEY": "ion-sandbox-oidc",
    "OIDC_SECRET": "ion-sandbox-oidc-secret",
}


def check_sandbox_credentials(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """E017: the sandbox's client id is sent to the real Ion (no base URL was set)."""
    errors: list[CheckMessage] = []
    pairs = [
        (OAUTH2_BACKEND, "SOCIAL_AUTH_ION_KEY", ("SOCIAL_AUTH_ION_BASE_URL",)),
        (
            OIDC_BACKEND,
            "SOCIAL_AUTH_ION_OIDC_KEY",
            ("SOCIAL_AUTH_ION_OIDC_BASE_URL", "SOCIAL_AUTH_ION_BASE_URL"),
        ),
    ]
    for backend, key_name, url_names in pairs:
        key = getattr(settings, key_name, None)
        if backend not in ion_backends() or not isinstance(key, str):
            continue
        if not key.startswith(SANDBOX_CLIENT_PREFIX):
            continue
        url = next((getattr(settings, n) for n in url_names if getattr(settings, n, None)), None)
        if str(url or DEFAULTS["BASE_URL"]).rstrip("/") == DEFAULTS["BASE_URL"]:
            errors.append(
                Error(
                    f"{key_name} is the Ion sandbox's client id ('{key}'), but the login "
                    f"goes to the real Ion ({DEFAULTS['BASE_URL']}), which does not know it.",
                    hint=f"Set {url_names[0]} to the URL the sandbox printed "
                    '(e.g. "http://127.0.0.1:8080"), or use your application\'s id from Ion.',
                    id="ion_oauth.E017",
                )
            )
    return errors


def check_production(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """With DEBUG off, Ion must not be on loopback nor the client the sandbox's."""
    if settings.DEBUG:
        return []
    errors: list[CheckMessage] = []
    names = [("SOCIAL_AUTH_ION_BASE_URL", base_url(oidc=False))]
    if OIDC_BACKEND in backends() and setting("OIDC_BASE_URL") is not None:
        names.append(("SOCIAL_AUTH_ION_OIDC_BASE_URL", base_url(oidc=True)))
    for name, url in names:
        if urlsplit(url).hostname in LOOPBACK_HOSTS:
            errors.append(
                Error(
                    f"{name} {url!r} is on loopback while DEBUG is off: whoever on this host "
                    "binds that port first becomes Ion and logs anyone in.",
                    hint=f"Set {name} to your Ion (https://ion.tjhsst.edu), or run with "
                    "DEBUG = True while developing against a local Ion.",
                    id="ion_oauth.E020",
                )
            )
    published = sorted(
        f"SOCIAL_AUTH_ION_{name}"
        for name, value in SANDBOX_CREDENTIALS.items()
        if setting(name) == value
    )
    if published:
        errors.append(
            Error(
                f"{', '.join(published)} hold the Ion sandbox's published client credentials "
                "while DEBUG is off.",
                hint="Register an application on Ion and use its client id and secret.",
                id="ion_oauth.E021",
            )
        )
    return errors


def check_redirects(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """social-auth must keep checking ``next`` against the site's own hosts."""
    if getattr(settings, "SOCIAL_AUTH_SANITIZE_REDIRECTS", True) is not False:
        return []
    return [
        Warning(
            "SOCIAL_AUTH_SANITIZE_REDIRECTS is False: a link to the Ion login can send the "
            "user to any site afterwards (an open redirect).",
            hint="Remove SOCIAL_AUTH_SANITIZE_REDIRECTS; list extra hosts in "
            "SOCIAL_AUTH_ALLOWED_REDIRECT_HOSTS instead.",
            id="ion_oauth.W011",
        )
    ]
