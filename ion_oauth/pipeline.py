"""Opt-in social-auth pipeline steps that keep a Django user in step with Ion.

Add them after ``load_extra_data`` (see the README for the whole pipeline). Each does
nothing for logins through other backends and writes to the database only when
something changed.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.models import Group

from ion_oauth.conf import ion_settings
from ion_oauth.profile import roles_of

#: Backends whose details carry Ion's names and email (both Ion backends).
PROFILE_BACKENDS = frozenset({"ion", "ion-oidc"})
#: Backends whose responses carry Ion's role flags and graduation year. OpenID Connect
#: claims carry neither, so role sync there would strip every role group.
ROLE_BACKENDS = frozenset({"ion"})


def sync_profile(
    backend: Any,
    details: dict[str, Any],
    response: Any,
    user: Any = None,
    *args: Any,
    **kwargs: Any,
) -> None:
    """Copy first name, last name and email from Ion onto the user at every login.

    A field Ion leaves empty (a teacher without ``tj_email``) does not clear the user's.
    """
    if user is None or backend.name not in PROFILE_BACKENDS:
        return
    changed = []
    for field in ("first_name", "last_name", "email"):
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
    if not pattern:
        return None
    before, _, after = pattern.partition("{graduation_year}")
    return re.compile(re.escape(before) + r"[0-9]+" + re.escape(after))
