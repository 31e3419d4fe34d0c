"""Opt-in social-auth pipeline steps that keep a Django user in step with Ion.

Add them after ``load_extra_data`` (``docs/pipeline.md`` has the whole pipeline), except
``associate_oauth2_user``, which goes after ``social_user``. Each does nothing for logins
through other backends and writes to the database only when something changed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import Group

from ion_oauth.conf import ion_settings
from ion_oauth.oauth import IonOauth2
from ion_oauth.profile import roles_of

logger = logging.getLogger("ion_oauth")

#: The names of the two Ion backends, ``IonOauth2`` and ``IonOpenIdConnect``.
OAUTH2_BACKEND = "ion"
OIDC_BACKEND = "ion-oidc"
#: Backends whose details carry Ion's names and email (both Ion backends).
PROFILE_BACKENDS = frozenset({OAUTH2_BACKEND, OIDC_BACKEND})
#: Backends whose responses carry Ion's role flags and graduation year. OpenID Connect
#: claims carry neither, so role sync there would strip every role group.
ROLE_BACKENDS = frozenset({OAUTH2_BACKEND})


def sync_profile(
    backend: Any,
    details: dict[str, Any],
    response: Any,
    user: Any = None,
    *args: Any,
    **kwargs: Any,
) -> None:
    """Copy first name, last name and email from Ion onto the user at every login.

    A field Ion leaves empty (a teacher without ``tj_email``) does not clear the user's, and
    a field named in ``SOCIAL_AUTH_PROTECTED_USER_FIELDS`` is never changed.
    """
    if user is None or backend.name not in PROFILE_BACKENDS:
        return
    protected = set(backend.setting("PROTECTED_USER_FIELDS", None) or ())
    changed = []
    for field in ("first_name", "last_name", "email"):
        if field in protected:
            continue
        value = details.get(field)
        if value and hasattr(user, field) and getattr(user, field) != value:
            setattr(user, field, value)
            changed.append(field)
    if changed:
        user.save(update_fields=changed)


def sync_roles(
    backend: Any,
    details: dict[str, Any],
    response: Any,
    user: Any = None,
    *args: Any,
    **kwargs: Any,
) -> None:
    """Put the user in the Django groups for their Ion roles and class, and out of the rest.

    Groups come from ``SOCIAL_AUTH_ION_ROLE_GROUPS`` and ``SOCIAL_AUTH_ION_CLASS_GROUP``;
    groups this step does not manage are never touched. ``is_staff`` / ``is_superuser``
    follow ``SOCIAL_AUTH_ION_STAFF_ROLES`` / ``SUPERUSER_ROLES`` when those are set and
    are left alone otherwise. A repeat login with nothing changed costs one query.
    """
    if user is None or backend.name not in ROLE_BACKENDS:
        return
    roles = roles_of(response)
    role_groups = ion_settings.ROLE_GROUPS
    wanted = {name for role, name in role_groups.items() if role in roles}
    year = response.get("graduation_year")
    class_group = ion_settings.CLASS_GROUP
    if class_group and year:
        wanted.add(class_group.format(graduation_year=year))
    sync_groups(user, wanted, managed=set(role_groups.values()), class_group=class_group)
    sync_flags(user, roles)


def sync_oidc_groups(
    backend: Any,
    details: dict[str, Any],
    response: Any,
    user: Any = None,
    *args: Any,
    **kwargs: Any,
) -> None:
    """Put the user in the Django groups for their Ion groups, and out of the rest.

    ``SOCIAL_AUTH_ION_OIDC_GROUP_MAP`` maps Ion group names (the ``groups`` claim) to
    Django group names; groups it does not name are never touched. With
    ``SOCIAL_AUTH_ION_OIDC_SYSADMIN_IS_SUPERUSER = True``, ``is_superuser`` follows Ion's
    ``is_sysadmin``; otherwise it is left alone. Does nothing for other backends.
    """
    if user is None or backend.name != OIDC_BACKEND:
        return
    group_map: Mapping[str, str] = backend.setting("GROUP_MAP", {}) or {}
    if group_map:
        ion_groups = set(response.get("groups") or ())
        wanted = {django for ion, django in group_map.items() if ion in ion_groups}
        sync_groups(user, wanted, managed=set(group_map.values()), class_group=None)
    if backend.setting("SYSADMIN_IS_SUPERUSER", False):
        is_sysadmin = response.get("is_sysadmin") is True
        if user.is_superuser != is_sysadmin:
            user.is_superuser = is_sysadmin
            user.save(update_fields=["is_superuser"])


def associate_oauth2_user(
    backend: Any, uid: str, user: Any = None, *args: Any, **kwargs: Any
) -> dict[str, Any] | None:
    """Log a person who used to log in with ``IonOauth2`` into that same user.

    Ion's ``sub`` is the ``id`` the OAuth2 backend stored, so a site switching to OpenID
    Connect keeps its users instead of creating a second one per person. Only when both
    backends use the same Ion (base URL): another Ion's ids are other people. Put it after
    ``social_user`` and before ``get_username``.
    """
    if user is not None or backend.name != OIDC_BACKEND:
        return None
    oauth2_base_url = IonOauth2(backend.strategy).base_url()
    if backend.base_url() != oauth2_base_url:
        # Another Ion's "sub" 1 is not this Ion's user 1: linking them would log a person
        # in as someone else (a sandbox, with no passwords, as anyone).
        logger.warning(
            "Not linking an OpenID Connect login to an OAuth2 user: the backends use "
            "different Ions (%s and %s)",
            backend.base_url(),
            oauth2_base_url,
        )
        return None
    social = backend.strategy.storage.user.get_social_auth(OAUTH2_BACKEND, uid)
    if social is None:
        return None
    return {"user": social.user}


def sync_groups(user: Any, wanted: set[str], *, managed: set[str], class_group: str | None) -> None:
    """Make the user's managed groups exactly ``wanted``, creating groups as needed."""
    current = set(user.groups.values_list("name", flat=True))
    class_re = _class_group_regex(class_group)
    current_managed = {
        name for name in current if name in managed or (class_re and class_re.fullmatch(name))
    }
    to_remove = current_managed - wanted
    to_add = wanted - current
    if to_remove:
        user.groups.remove(*Group.objects.filter(name__in=to_remove))
    if to_add:
        user.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in sorted(to_add)))


def sync_flags(user: Any, roles: set[str]) -> None:
    """Set ``is_staff`` / ``is_superuser`` from roles, for the flags a setting asks for."""
    changed = []
    for flag, flag_roles in (
        ("is_staff", ion_settings.STAFF_ROLES),
        ("is_superuser", ion_settings.SUPERUSER_ROLES),
    ):
        if not flag_roles:
            continue
        value = bool(roles.intersection(flag_roles))
        if getattr(user, flag) != value:
            setattr(user, flag, value)
            changed.append(flag)
    if changed:
        user.save(update_fields=changed)


def _class_group_regex(pattern: str | None) -> re.Pattern[str] | None:
    """The group names ``pattern`` makes, with a number for each ``{graduation_year}``."""
    if not pattern:
        return None
    return re.compile("[0-9]+".join(re.escape(part) for part in pattern.split("{graduation_year}")))
