"""System checks of the Ion settings themselves: which Ion backends are listed, each
backend's client id, secret and PKCE, where Ion is, timeouts, scopes, roles and the OpenID
Connect group map. Ids E001-E013, E018, E022, W001, W002 and W005.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning

from ion_oauth.checks.common import (
    LOOPBACK_HOSTS,
    OAUTH2_BACKEND,
    OIDC_BACKEND,
    backends,
    setting,
)
from ion_oauth.conf import DEFAULTS, ROLES, ion_settings


def check_settings(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """Backends, the OAuth2 backend's credentials, apps, the base URL and the scope."""
    errors: list[CheckMessage] = []
    listed = backends()
    if OAUTH2_BACKEND not in listed and OIDC_BACKEND not in listed:
        errors.append(
            Error(
                "No Ion backend is in AUTHENTICATION_BACKENDS.",
                hint=f"Add '{OAUTH2_BACKEND}' to AUTHENTICATION_BACKENDS.",
                id="ion_oauth.E001",
            )
        )
    if OAUTH2_BACKEND in listed or OIDC_BACKEND not in listed:
        errors.extend(_oauth2_credential_errors())
    if not apps.is_installed("social_django"):
        errors.append(
            Error(
                "'social_django' is not in INSTALLED_APPS.",
                hint="Add 'social_django' to INSTALLED_APPS and run migrate; it stores "
                "the link between Ion accounts and users.",
                id="ion_oauth.E004",
            )
        )
    errors.extend(
        _base_url_errors(
            "SOCIAL_AUTH_ION_BASE_URL",
            ion_settings.BASE_URL,
            invalid_id="ion_oauth.E005",
            cleartext_id="ion_oauth.E006",
        )
    )
    try:
        timeout_ok = float(setting("TIMEOUT", 10.0)) > 0
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
    try:
        max_idle_ok = float(setting("MAX_IDLE", 1.5)) >= 0
    except (TypeError, ValueError):
        max_idle_ok = False
    if not max_idle_ok:
        errors.append(
            Error(
                "SOCIAL_AUTH_ION_MAX_IDLE must be a number of seconds, 0 or more.",
                hint="Remove it to use the default of 1.5 seconds; 0 opens a new connection "
                "to Ion for every request.",
                id="ion_oauth.E018",
            )
        )
    if "openid" in (setting("SCOPE", []) or []):
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


def _oauth2_credential_errors() -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    if not setting("KEY"):
        errors.append(
            Error(
                "SOCIAL_AUTH_ION_KEY is not set.",
                hint="Set it to the client id of your application on Ion "
                "(OAuth Management on Ion, or the one the sandbox prints).",
                id="ion_oauth.E002",
            )
        )
    if setting("SECRET"):
        return errors
    if setting("USE_PKCE", True):
        errors.append(
            Warning(
                "SOCIAL_AUTH_ION_SECRET is not set, so logins work only for a public client on Ion.",
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
    return errors


def _base_url_errors(
    name: str, base_url: str, *, invalid_id: str, cleartext_id: str
) -> list[CheckMessage]:
    """An Ion base URL must be http(s), and https unless DEBUG is on or Ion is on loopback."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [
            Error(
                f"{name} {base_url!r} is not an http(s) URL.",
                hint="Use https://ion.tjhsst.edu, or the URL of your development Ion.",
                id=invalid_id,
            )
        ]
    if parts.scheme != "https" and not settings.DEBUG and parts.hostname not in LOOPBACK_HOSTS:
        return [
            Error(
                f"{name} {base_url!r} is not https while DEBUG is off: "
                "access tokens would cross the network in clear text.",
                hint=f"Use an https:// URL for {name}.",
                id=cleartext_id,
            )
        ]
    return []


def check_roles(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """Role names in the role settings must be roles Ion has."""
    errors: list[CheckMessage] = []
    for name in ("ROLE_GROUPS", "STAFF_ROLES", "SUPERUSER_ROLES"):
        unknown = sorted(set(setting(name, ()) or ()) - set(ROLES))
        if unknown:
            errors.append(
                Error(
                    f"SOCIAL_AUTH_ION_{name} names unknown roles: {', '.join(unknown)}.",
                    hint=f"Use only {', '.join(ROLES)}.",
                    id="ion_oauth.E008",
                )
            )
    return errors


def check_oidc(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """The OpenID Connect backend's client, base URL, scope and group map."""
    if OIDC_BACKEND not in backends():
        return []
    errors: list[CheckMessage] = []
    if not setting("OIDC_KEY"):
        errors.append(
            Error(
                "SOCIAL_AUTH_ION_OIDC_KEY is not set.",
                hint="Set it to the client id of an application on Ion with OpenID Connect "
                "enabled (the sandbox's is 'ion-sandbox-oidc').",
                id="ion_oauth.E010",
            )
        )
    if not setting("OIDC_SECRET"):
        errors.append(
            Warning(
                "SOCIAL_AUTH_ION_OIDC_SECRET is not set, so OpenID Connect logins work only "
                "for a public client on Ion.",
                hint="Set SOCIAL_AUTH_ION_OIDC_SECRET to the OIDC application's client secret.",
                id="ion_oauth.W005",
            )
        )
    base_url = setting("OIDC_BASE_URL")
    if base_url is not None:
        errors.extend(
            _base_url_errors(
                "SOCIAL_AUTH_ION_OIDC_BASE_URL",
                str(base_url),
                invalid_id="ion_oauth.E011",
                cleartext_id="ion_oauth.E011",
            )
        )
    if setting("OIDC_IGNORE_DEFAULT_SCOPE") and "profile" not in (setting("OIDC_SCOPE") or []):
        errors.append(
            Error(
                "SOCIAL_AUTH_ION_OIDC_SCOPE leaves out 'profile', so Ion's ID token carries no "
                "preferred_username and every login fails.",
                hint="Add 'profile' to SOCIAL_AUTH_ION_OIDC_SCOPE.",
                id="ion_oauth.E012",
            )
        )
    group_map = setting("OIDC_GROUP_MAP")
    if group_map is not None and not (
        isinstance(group_map, Mapping)
        and all(isinstance(k, str) and isinstance(v, str) and v for k, v in group_map.items())
    ):
        errors.append(
            Error(
                "SOCIAL_AUTH_ION_OIDC_GROUP_MAP must map Ion group names to Django group names.",
                hint="For example {'admin_all': 'Ion admins'}.",
                id="ion_oauth.E013",
            )
        )
    return errors


def check_oidc_client(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """An OpenID Connect client with neither a secret nor PKCE proves nothing."""
    if OIDC_BACKEND not in backends() or setting("OIDC_SECRET"):
        return []
    use_pkce = setting("OIDC_USE_PKCE", setting("USE_PKCE", DEFAULTS["USE_PKCE"]))
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
