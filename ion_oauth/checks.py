"""System checks (``manage.py check``) for a site that logs in with Ion.

Ids are stable and listed in the README; each message names the setting to change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from ion_oauth.conf import PREFIX, ROLES, ion_settings

OAUTH2_BACKEND = "ion_oauth.oauth.IonOauth2"
OIDC_BACKEND = "ion_oauth.oidc.IonOpenIdConnect"

#: Steps without which an Ion login cannot produce a logged-in, linked user.
REQUIRED_STEPS = (
    "social_core.pipeline.social_auth.social_details",
    "social_core.pipeline.social_auth.social_uid",
    "social_core.pipeline.social_auth.social_user",
    "social_core.pipeline.social_auth.associate_user",
)
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def _setting(name: str, default: Any = None) -> Any:
    return getattr(settings, PREFIX + name, default)


@register(Tags.security, Tags.compatibility)
def check_settings(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """Backends, credentials, apps and the base URL."""
    errors: list[CheckMessage] = []
    backends = list(getattr(settings, "AUTHENTICATION_BACKENDS", []))
    if OAUTH2_BACKEND not in backends and OIDC_BACKEND not in backends:
        errors.append(
            Error(
                "No Ion backend is in AUTHENTICATION_BACKENDS.",
                hint=f"Add '{OAUTH2_BACKEND}' to AUTHENTICATION_BACKENDS.",
                id="ion_oauth.E001",
            )
        )
    if not _setting("KEY"):
        errors.append(
            Error(
                "SOCIAL_AUTH_ION_KEY is not set.",
                hint="Set it to the client id of your application on Ion "
                "(OAuth Management on Ion, or the one the sandbox prints).",
                id="ion_oauth.E002",
            )
        )
    if not _setting("SECRET"):
        if _setting("USE_PKCE", True):
            errors.append(
                Warning(
                    "SOCIAL_AUTH_ION_SECRET is not set, so logins work only for a public "
                    "client on Ion.",
                    hint="Set SOCIAL_AUTH_ION_SECRET to your application's client secret, "
                    "unless it is registered on Ion as a public client.",
                    id="ion_oauth.W001",
                )
            )
        else:
            errors.append(
                Error(
                    "SOCIAL_AUTH_ION_SECRET is not set and SOCIAL_AUTH_ION_USE_PKCE is off: "
                    "nothing proves the login is this site's.",
                    hint="Set SOCIAL_AUTH_ION_SECRET, or turn SOCIAL_AUTH_ION_USE_PKCE back on.",
                    id="ion_oauth.E003",
                )
            )
    if not apps.is_installed("social_django"):
        errors.append(
            Error(
                "'social_django' is not in INSTALLED_APPS.",
                hint="Add 'social_django' to INSTALLED_APPS and run migrate; it stores "
                "the link between Ion accounts and users.",
                id="ion_oauth.E004",
            )
        )
    base_url = ion_settings.BASE_URL
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        errors.append(
            Error(
                f"SOCIAL_AUTH_ION_BASE_URL {base_url!r} is not an http(s) URL.",
                hint="Use https://ion.tjhsst.edu, or the URL of your development Ion.",
                id="ion_oauth.E005",
            )
        )
    elif parts.scheme != "https" and not settings.DEBUG and parts.hostname not in LOOPBACK_HOSTS:
        errors.append(
            Error(
                f"SOCIAL_AUTH_ION_BASE_URL {base_url!r} is not https while DEBUG is off: "
                "access tokens would cross the network in clear text.",
                hint="Use an https:// URL for SOCIAL_AUTH_ION_BASE_URL.",
                id="ion_oauth.E006",
            )
        )
    try:
        timeout_ok = float(_setting("TIMEOUT", 10.0)) > 0
    except (TypeError, ValueError):
        timeout_ok = False
    if not timeout_ok:
        errors.append(
            Error(
                "SOCIAL_AUTH_ION_TIMEOUT must be a positive number of seconds.",
                hint="Remove it to use the default of 10 seconds.",
                id="ion_oauth.E007",
            )
        )
    scope = _setting("SCOPE", []) or []
    if "openid" in scope:
        errors.append(
            Warning(
                "SOCIAL_AUTH_ION_SCOPE asks for 'openid': the OAuth2 backend leaves it out, "
                "because Ion answers a non-OIDC application that asks for it with HTTP 500.",
                hint=f"Remove 'openid' from SOCIAL_AUTH_ION_SCOPE; for OpenID Connect use "
                f"'{OIDC_BACKEND}'.",
                id="ion_oauth.W002",
            )
        )
    return errors


@register(Tags.security)
def check_roles(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """Role names in the role settings must be roles Ion has."""
    errors: list[CheckMessage] = []
    for name in ("ROLE_GROUPS", "STAFF_ROLES", "SUPERUSER_ROLES"):
        unknown = sorted(set(_setting(name, ()) or ()) - set(ROLES))
        if unknown:
            errors.append(
                Error(
                    f"SOCIAL_AUTH_ION_{name} names unknown roles: {', '.join(unknown)}.",
                    hint=f"Use only {', '.join(ROLES)}.",
                    id="ion_oauth.E008",
                )
            )
    return errors


@register(Tags.security)
def check_pipeline(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """A custom SOCIAL_AUTH_PIPELINE must still link and store an Ion login safely."""
    pipeline = _setting("PIPELINE") or getattr(settings, "SOCIAL_AUTH_PIPELINE", None)
    if pipeline is None:
        return []
    pipeline = list(pipeline)
    errors: list[CheckMessage] = []
    missing = [step for step in REQUIRED_STEPS if step not in pipeline]
    if missing:
        errors.append(
            Error(
                "SOCIAL_AUTH_PIPELINE lacks steps an Ion login needs: " + ", ".join(missing) + ".",
                hint="Start from the pipeline in the ion-oauth README.",
                id="ion_oauth.E009",
            )
        )
    if "social_core.pipeline.social_auth.load_extra_data" not in pipeline:
        errors.append(
            Warning(
                "SOCIAL_AUTH_PIPELINE lacks load_extra_data, so Ion tokens are not stored "
                "and API calls and token refresh cannot work.",
                hint="Add 'social_core.pipeline.social_auth.load_extra_data' after associate_user.",
                id="ion_oauth.W003",
            )
        )
    if "social_core.pipeline.social_auth.associate_by_email" in pipeline:
        errors.append(
            Warning(
                "SOCIAL_AUTH_PIPELINE contains associate_by_email: an Ion login would be "
                "attached to any existing account with the same email address.",
                hint="Remove associate_by_email unless every account's email is verified.",
                id="ion_oauth.W004",
            )
        )
    return errors
