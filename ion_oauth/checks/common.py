"""What every check module reads: the Ion backends a site lists, its pipelines, the raw
``SOCIAL_AUTH_ION_*`` settings and which hosts are loopback.

The checks read settings as written (not through :mod:`ion_oauth.conf`, which falls back
to defaults), since a wrong value is what they are there to report.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from ion_oauth.conf import DEFAULTS, PREFIX

OAUTH2_BACKEND = "ion_oauth.oauth.IonOauth2"
OIDC_BACKEND = "ion_oauth.oidc.IonOpenIdConnect"
ION_BACKENDS = (OAUTH2_BACKEND, OIDC_BACKEND)
#: Steps without which an Ion login cannot produce a logged-in, linked user.
REQUIRED_STEPS = (
    "social_core.pipeline.social_auth.social_details",
    "social_core.pipeline.social_auth.social_uid",
    "social_core.pipeline.social_auth.social_user",
    "social_core.pipeline.social_auth.associate_user",
)
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def setting(name: str, default: Any = None) -> Any:
    """``SOCIAL_AUTH_ION_<name>`` as written in settings, or ``default``."""
    return getattr(settings, PREFIX + name, default)


def backends() -> list[str]:
    """``AUTHENTICATION_BACKENDS``, every entry."""
    return list(getattr(settings, "AUTHENTICATION_BACKENDS", []))


def ion_backends() -> list[str]:
    """The Ion backends in ``AUTHENTICATION_BACKENDS``."""
    return [b for b in backends() if b in ION_BACKENDS]


def pipeline() -> list[str] | None:
    """The pipeline social-auth runs for ``ion`` logins, or None for social-auth's default."""
    steps = setting("PIPELINE") or getattr(settings, "SOCIAL_AUTH_PIPELINE", None)
    return None if steps is None else list(steps)


def oidc_pipeline() -> list[str] | None:
    """``SOCIAL_AUTH_ION_OIDC_PIPELINE``, which social-auth uses for ``ion-oidc`` logins."""
    steps = setting("OIDC_PIPELINE")
    return None if steps is None else list(steps)


def base_url(oidc: bool) -> str:
    """The Ion a backend logs in with, without a trailing slash."""
    shared = setting("BASE_URL", DEFAULTS["BASE_URL"])
    value = setting("OIDC_BASE_URL", shared) if oidc else shared
    return str(value).rstrip("/")
