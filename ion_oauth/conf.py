"""The one place ion-oauth's settings are read.

Every setting is named ``SOCIAL_AUTH_ION_<NAME>`` so it sits beside the ones social-auth
already reads for the backend (``SOCIAL_AUTH_ION_KEY`` / ``SOCIAL_AUTH_ION_SECRET``).
Values are read on every access, never cached at import, so ``override_settings`` works.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings

PREFIX = "SOCIAL_AUTH_ION_"

#: Defaults for the settings this package adds. The backend reads them through
#: ``self.setting(NAME, DEFAULTS[NAME])``; everything else through :data:`ion_settings`.
DEFAULTS: dict[str, Any] = {
    "BASE_URL": "https://ion.tjhsst.edu",
    "TIMEOUT": 10.0,
    "MAX_IDLE": 1.5,
    "USE_PKCE": True,
    "STATE_LIFETIME": 1800,
    "REFRESH_MARGIN": 60.0,
    "ROLE_GROUPS": {
        "student": "Ion students",
        "teacher": "Ion teachers",
        "eighth_admin": "Ion eighth period admins",
    },
    "CLASS_GROUP": "Class of {graduation_year}",
    "STAFF_ROLES": (),
    "SUPERUSER_ROLES": (),
    "BASE_TEMPLATE": "ion_oauth/base.html",
    "ADMIN_LOGIN": False,
}

#: The roles an Ion profile can carry, as used by ``ROLE_GROUPS`` and ``*_ROLES``.
ROLES = ("student", "teacher", "eighth_admin")


class IonSettings:
    """Typed, lazy access to the ``SOCIAL_AUTH_ION_*`` settings."""

    def _get(self, name: str) -> Any:
        return getattr(settings, PREFIX + name, DEFAULTS[name])

    @property
    def BASE_URL(self) -> str:  # noqa: N802 - named like the setting
        """Where Ion lives; every endpoint is built from it."""
        return str(self._get("BASE_URL")).rstrip("/")

    @property
    def TIMEOUT(self) -> float:  # noqa: N802
        """Seconds to wait for each request to Ion (connect and all reads) before giving up."""
        return float(self._get("TIMEOUT"))

    @property
    def MAX_IDLE(self) -> float:  # noqa: N802
        """Seconds a kept-alive connection to Ion may sit idle and still be reused.

        Below the keep-alive timeout of common servers (gunicorn's is 2 s), so a
        connection is rarely reused just as Ion closes it.
        """
        return float(self._get("MAX_IDLE"))

    @property
    def REFRESH_MARGIN(self) -> float:  # noqa: N802
        """Seconds before an access token expires at which the API client refreshes it."""
        return float(self._get("REFRESH_MARGIN"))

    @property
    def ROLE_GROUPS(self) -> Mapping[str, str]:  # noqa: N802
        """Role name -> Django group name; a role left out gets no group."""
        value: Mapping[str, str] = self._get("ROLE_GROUPS") or {}
        return value

    @property
    def CLASS_GROUP(self) -> str | None:  # noqa: N802
        """Group name pattern for a graduating class, or None for no class groups."""
        value: str | None = self._get("CLASS_GROUP") or None
        return value

    @property
    def STAFF_ROLES(self) -> Sequence[str]:  # noqa: N802
        """Roles that make a user ``is_staff``; empty leaves ``is_staff`` alone."""
        return tuple(self._get("STAFF_ROLES") or ())

    @property
    def SUPERUSER_ROLES(self) -> Sequence[str]:  # noqa: N802
        """Roles that make a user ``is_superuser``; empty leaves it alone."""
        return tuple(self._get("SUPERUSER_ROLES") or ())

    @property
    def BASE_TEMPLATE(self) -> str:  # noqa: N802
        """The template the package's pages extend; a site's own base fits them in."""
        return str(self._get("BASE_TEMPLATE") or DEFAULTS["BASE_TEMPLATE"])

    @property
    def ADMIN_LOGIN(self) -> bool:  # noqa: N802
        """Whether the Django admin's login page offers "Log in with Ion" too."""
        return bool(self._get("ADMIN_LOGIN"))


ion_settings = IonSettings()
