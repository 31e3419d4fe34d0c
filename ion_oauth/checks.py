"""System checks (``manage.py check``) for a site that logs in with Ion.

Ids are stable and listed in the README; each message names the setting to change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


def _backends() -> list[str]:
    return list(getattr(settings, "AUTHENTICATION_BACKENDS", []))


def _pipeline() -> list[str] | None:
    pipeline = _setting("PIPELINE") or getattr(settings, "SOCIAL_AUTH_PIPELINE", None)
    return None if pipeline is None else list(pipeline)


def check_settings(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """Backends, the OAuth2 backend's credentials, apps, the base URL and the scope."""
    errors: list[CheckMessage] = []
    backends = _backends()
    if OAUTH2_BACKEND not in backends and OIDC_BACKEND not in backends:
        errors.append(
            Error(
                "No Ion backend is in AUTHENTICATION_BACKENDS.",
                hint=f"Add '{OAUTH2_BACKEND}' to AUTHENTICATION_BACKENDS.",
                id="ion_oauth.E001",
            )
        )
    if OAUTH2_BACKEND in backends or OIDC_BACKEND not in backends:
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
    try:
        max_idle_ok = float(_setting("MAX_IDLE", 1.5)) >= 0
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
    if "openid" in (_setting("SCOPE", []) or []):
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
    if not _setting("KEY"):
        errors.append(
            Error(
                "SOCIAL_AUTH_ION_KEY is not set.",
                hint="Set it to the client id of your application on Ion "
                "(OAuth Management on Ion, or the one the sandbox prints).",
                id="ion_oauth.E002",
            )
        )
    if _setting("SECRET"):
        return errors
    if _setting("USE_PKCE", True):
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


def check_pipeline(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """A custom SOCIAL_AUTH_PIPELINE must still link and store an Ion login safely."""
    pipeline = _pipeline()
    if pipeline is None:
        return []
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


def check_oidc(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """The OpenID Connect backend's client, base URL, scope, group map and pipeline."""
    if OIDC_BACKEND not in _backends():
        return []
    errors: list[CheckMessage] = []
    if not _setting("OIDC_KEY"):
        errors.append(
            Error(
                "SOCIAL_AUTH_ION_OIDC_KEY is not set.",
                hint="Set it to the client id of an application on Ion with OpenID Connect "
                "enabled (the sandbox's is 'ion-sandbox-oidc').",
                id="ion_oauth.E010",
            )
        )
    if not _setting("OIDC_SECRET"):
        errors.append(
            Warning(
                "SOCIAL_AUTH_ION_OIDC_SECRET is not set, so OpenID Connect logins work only "
                "for a public client on Ion.",
                hint="Set SOCIAL_AUTH_ION_OIDC_SECRET to the OIDC application's client secret.",
                id="ion_oauth.W005",
            )
        )
    base_url = _setting("OIDC_BASE_URL")
    if base_url is not None:
        errors.extend(
            _base_url_errors(
                "SOCIAL_AUTH_ION_OIDC_BASE_URL",
                str(base_url),
                invalid_id="ion_oauth.E011",
                cleartext_id="ion_oauth.E011",
            )
        )
    if _setting("OIDC_IGNORE_DEFAULT_SCOPE") and "profile" not in (_setting("OIDC_SCOPE") or []):
        errors.append(
            Error(
                "SOCIAL_AUTH_ION_OIDC_SCOPE leaves out 'profile', so Ion's ID token carries no "
                "preferred_username and every login fails.",
                hint="Add 'profile' to SOCIAL_AUTH_ION_OIDC_SCOPE.",
                id="ion_oauth.E012",
            )
        )
    group_map = _setting("OIDC_GROUP_MAP")
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
    pipeline = _pipeline() or []
    step = "ion_oauth.pipeline.associate_oauth2_user"
    after, before = (
        "social_core.pipeline.social_auth.social_user",
        "social_core.pipeline.user.create_user",
    )
    if step in pipeline and not (
        after in pipeline
        and pipeline.index(after) < pipeline.index(step)
        and (before not in pipeline or pipeline.index(step) < pipeline.index(before))
    ):
        errors.append(
            Warning(
                f"SOCIAL_AUTH_PIPELINE has {step} in the wrong place: it must come after "
                "social_user and before create_user, or it links nobody.",
                hint=f"Put '{step}' right after '{after}'.",
                id="ion_oauth.W006",
            )
        )
    return errors


# Registered here rather than with @register, so that each check stays a plain function
# that mutation testing (tox -e mutation) can reach.
register(check_settings, Tags.security, Tags.compatibility)
register(check_roles, Tags.security)
register(check_pipeline, Tags.security)
register(check_oidc, Tags.security, Tags.compatibility)
