"""System checks for risky setups: a development Ion in production, a weaker OpenID Connect
client, and settings social-auth reads that :mod:`ion_oauth.checks` does not.

Registered from ``apps.py`` beside :mod:`ion_oauth.checks`; ids ``E020``-``E029`` and
``W010``-``W019``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from ion_oauth.checks import (
    LOOPBACK_HOSTS,
    OIDC_BACKEND,
    REQUIRED_STEPS,
    _backends,
    _pipeline,
    _setting,
)
from ion_oauth.conf import DEFAULTS

#: The client ids and secrets the Ion sandbox prints and the README publishes.
SANDBOX_CREDENTIALS = {
    "KEY": "ion-sandbox-client",
    "SECRET": "ion-sandbox-secret",
    "OIDC_KEY": "ion-sandbox-oidc",
    "OIDC_SECRET": "ion-sandbox-oidc-secret",
}
ASSOCIATE_BY_EMAIL = "social_core.pipeline.social_auth.associate_by_email"
ASSOCIATE_OAUTH2_USER = "ion_oauth.pipeline.associate_oauth2_user"


def _base_url(oidc: bool) -> str:
    shared = _setting("BASE_URL", DEFAULTS["BASE_URL"])
    value = _setting("OIDC_BASE_URL", shared) if oidc else shared
    return str(value).rstrip("/")


def _oidc_pipeline() -> list[str] | None:
    pipeline = _setting("OIDC_PIPELINE")
    return None if pipeline is None else list(pipeline)


@register(Tags.security)
def check_production(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """With DEBUG off, Ion must not be on loopback nor the client the sandbox's."""
    if settings.DEBUG:
        return []
    errors: list[CheckMessage] = []
    names = [("SOCIAL_AUTH_ION_BASE_URL", _base_url(oidc=False))]
    if OIDC_BACKEND in _backends() and _setting("OIDC_BASE_URL") is not None:
        names.append(("SOCIAL_AUTH_ION_OIDC_BASE_URL", _base_url(oidc=True)))
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
        if _setting(name) == value
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


@register(Tags.security)
def check_oidc_client(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """An OpenID Connect client with neither a secret nor PKCE proves nothing."""
    if OIDC_BACKEND not in _backends() or _setting("OIDC_SECRET"):
        return []
    use_pkce = _setting("OIDC_USE_PKCE", _setting("USE_PKCE", DEFAULTS["USE_PKCE"]))
    if use_pkce:
        return []
    return [
        Error(
            "SOCIAL_AUTH_ION_OIDC_SECRET is not set and PKCE is off for OpenID Connect: "
            "nothing proves the login is this site's.",
            hint="Set SOCIAL_AUTH_ION_OIDC_SECRET, or turn SOCIAL_AUTH_ION_OIDC_USE_PKCE "
            "(or SOCIAL_AUTH_ION_USE_PKCE) back on.",
            id="ion_oauth.E022",
        )
    ]


@register(Tags.security)
def check_oidc_pipeline(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """``SOCIAL_AUTH_ION_OIDC_PIPELINE``, which social-auth uses for ``ion-oidc`` logins."""
    pipeline = _oidc_pipeline()
    if pipeline is None or OIDC_BACKEND not in _backends():
        return []
    errors: list[CheckMessage] = []
    missing = [step for step in REQUIRED_STEPS if step not in pipeline]
    if missing:
        errors.append(
            Error(
                "SOCIAL_AUTH_ION_OIDC_PIPELINE lacks steps an Ion login needs: "
                + ", ".join(missing)
                + ".",
                hint="Start from the pipeline in the ion-oauth README.",
                id="ion_oauth.E023",
            )
        )
    if ASSOCIATE_BY_EMAIL in pipeline:
        errors.append(
            Warning(
                "SOCIAL_AUTH_ION_OIDC_PIPELINE contains associate_by_email: an Ion login would "
                "be attached to any existing account with the same email address.",
                hint="Remove associate_by_email unless every account's email is verified.",
                id="ion_oauth.W010",
            )
        )
    return errors


@register(Tags.security)
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


@register(Tags.security)
def check_associate_oauth2_user(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """``associate_oauth2_user`` links only logins of the same Ion."""
    pipelines = [_pipeline() or [], _oidc_pipeline() or []]
    if not any(ASSOCIATE_OAUTH2_USER in pipeline for pipeline in pipelines):
        return []
    oauth2, oidc = _base_url(oidc=False), _base_url(oidc=True)
    if oauth2 == oidc:
        return []
    return [
        Warning(
            f"{ASSOCIATE_OAUTH2_USER} is in the pipeline, but the OpenID Connect backend uses "
            f"another Ion ({oidc}) than the OAuth2 backend ({oauth2}), so it links nobody: "
            "the same id there is another person.",
            hint="Point SOCIAL_AUTH_ION_OIDC_BASE_URL at the same Ion as "
            "SOCIAL_AUTH_ION_BASE_URL, or remove the step.",
            id="ion_oauth.W012",
        )
    ]
