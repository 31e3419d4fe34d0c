"""ion_oauth.pipeline: names, email, groups and staff flags follow Ion at every login."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from social_django.models import UserSocialAuth
from social_django.utils import load_strategy

from ion_oauth.oauth import IonOauth2
from ion_oauth.pipeline import sync_flags, sync_profile, sync_roles

pytestmark = pytest.mark.django_db

User = get_user_model()


def fake_backend(name: str) -> SimpleNamespace:
    """A backend as the steps use it: a name and social-auth's setting lookup."""
    return SimpleNamespace(name=name, setting=IonOauth2(load_strategy()).setting)


ION = fake_backend("ion")
OTHER = fake_backend("github")


def groups_of(user: Any) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


@pytest.fixture
def user() -> Any:
    return User.objects.create_user("2027jdoe", "old@example.com", first_name="Jon", last_name="D")


def change_meanwhile(user: Any, **fields: Any) -> None:
    """Change the user's row, not the object a step holds, as a request beside the login would."""
    User.objects.filter(pk=user.pk).update(**fields)


# -- sync_profile -----------------------------------------------------------------------


def test_sync_profile_copies_names_and_email(user):
    details = {"first_name": "John", "last_name": "Doe", "email": "2027jdoe@tjhsst.edu"}

    sync_profile(ION, details, {}, user=user)

    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.email) == ("John", "Doe", "2027jdoe@tjhsst.edu")


def test_sync_profile_does_not_clear_a_field_ion_leaves_empty(user):
    sync_profile(ION, {"first_name": "John", "last_name": "D", "email": ""}, {}, user=user)

    user.refresh_from_db()
    assert user.email == "old@example.com"


def test_sync_profile_writes_nothing_when_nothing_changed(user, django_assert_num_queries):
    details = {"first_name": "Jon", "last_name": "D", "email": "old@example.com"}

    with django_assert_num_queries(0):
        sync_profile(ION, details, {}, user=user)


def test_sync_profile_saves_only_the_fields_it_changes(user):
    """Guards against a login undoing a change made to the user while it ran."""
    change_meanwhile(user, is_staff=True)

    sync_profile(ION, {"first_name": "John", "last_name": "D"}, {}, user=user)

    user.refresh_from_db()
    assert (user.first_name, user.is_staff) == ("John", True)


def test_sync_profile_ignores_other_backends_and_missing_users(user):
    sync_profile(OTHER, {"first_name": "Other"}, {}, user=user)
    sync_profile(ION, {"first_name": "Other"}, {}, user=None)

    user.refresh_from_db()
    assert user.first_name == "Jon"


# -- sync_roles ---------------------------------------------------------------------------


def test_a_student_joins_the_student_and_class_groups(user, student_profile):
    sync_roles(ION, {}, student_profile, user=user)

    assert groups_of(user) == {"Ion students", "Class of 2027"}


def test_a_teacher_joins_the_teacher_group_and_no_class(user, teacher_profile):
    sync_roles(ION, {}, teacher_profile, user=user)

    assert groups_of(user) == {"Ion teachers"}


def test_an_eighth_admin_also_joins_the_eighth_admin_group(user, teacher_profile):
    teacher_profile["is_eighth_admin"] = True

    sync_roles(ION, {}, teacher_profile, user=user)

    assert groups_of(user) == {"Ion teachers", "Ion eighth period admins"}


def test_a_role_lost_in_ion_leaves_its_group_and_other_groups_stay(user, student_profile):
    user.groups.add(
        Group.objects.create(name="Robotics"),
        Group.objects.create(name="Ion teachers"),
        Group.objects.create(name="Class of 2026"),
    )

    sync_roles(ION, {}, student_profile, user=user)

    assert groups_of(user) == {"Robotics", "Ion students", "Class of 2027"}


def test_group_names_are_configurable(user, student_profile, settings):
    settings.SOCIAL_AUTH_ION_ROLE_GROUPS = {"student": "Students"}
    settings.SOCIAL_AUTH_ION_CLASS_GROUP = "{graduation_year} class"

    sync_roles(ION, {}, student_profile, user=user)

    assert groups_of(user) == {"Students", "2027 class"}


def test_a_class_group_naming_the_year_twice_is_left_for_the_new_class(
    user, student_profile, settings
):
    settings.SOCIAL_AUTH_ION_CLASS_GROUP = "{graduation_year}: Class of {graduation_year}"
    user.groups.add(Group.objects.create(name="2026: Class of 2026"))

    sync_roles(ION, {}, student_profile, user=user)

    assert groups_of(user) == {"Ion students", "2027: Class of 2027"}


def test_class_groups_can_be_turned_off(user, student_profile, settings):
    settings.SOCIAL_AUTH_ION_CLASS_GROUP = None

    sync_roles(ION, {}, student_profile, user=user)

    assert groups_of(user) == {"Ion students"}


def test_a_repeat_login_with_nothing_changed_costs_one_query(
    user, student_profile, django_assert_num_queries
):
    sync_roles(ION, {}, student_profile, user=user)

    with django_assert_num_queries(1):
        sync_roles(ION, {}, student_profile, user=user)


def test_staff_flags_are_left_alone_unless_a_setting_asks(user, teacher_profile):
    user.is_staff = True
    user.save()

    sync_roles(ION, {}, teacher_profile, user=user)

    user.refresh_from_db()
    assert (user.is_staff, user.is_superuser) == (True, False)


def test_staff_roles_grant_and_revoke_is_staff(user, teacher_profile, student_profile, settings):
    settings.SOCIAL_AUTH_ION_STAFF_ROLES = ["teacher"]

    sync_roles(ION, {}, teacher_profile, user=user)
    user.refresh_from_db()
    assert user.is_staff is True

    sync_roles(ION, {}, student_profile, user=user)
    user.refresh_from_db()
    assert user.is_staff is False


def test_superuser_roles_grant_is_superuser(user, teacher_profile, settings):
    settings.SOCIAL_AUTH_ION_SUPERUSER_ROLES = ["eighth_admin"]
    teacher_profile["is_eighth_admin"] = True

    sync_roles(ION, {}, teacher_profile, user=user)

    user.refresh_from_db()
    assert (user.is_staff, user.is_superuser) == (False, True)


def test_sync_roles_saves_only_the_flags_it_changes(user, teacher_profile, settings):
    """Guards against a login undoing a change made to the user while it ran."""
    settings.SOCIAL_AUTH_ION_STAFF_ROLES = ["teacher"]
    change_meanwhile(user, email="new@example.com")

    sync_roles(ION, {}, teacher_profile, user=user)

    user.refresh_from_db()
    assert (user.is_staff, user.email) == (True, "new@example.com")


def test_sync_roles_ignores_other_backends_and_missing_users(user, student_profile):
    sync_roles(OTHER, {}, student_profile, user=user)
    sync_roles(ION, {}, student_profile, user=None)

    assert groups_of(user) == set()


# -- through a real login -----------------------------------------------------------------


def test_a_name_changed_in_ion_shows_up_at_the_next_login(ion_login, student_profile):
    ion_login.login(student_profile)
    ion_login.client.logout()
    student_profile.update(first_name="Johnny", last_name="Doe-Smith")

    ion_login.login(student_profile)

    user = User.objects.get()
    assert (user.first_name, user.last_name) == ("Johnny", "Doe-Smith")


def test_an_ion_login_is_never_attached_to_a_local_account_with_the_same_username_or_email(
    ion_login,
):
    """Guards against account takeover: sharing a username or email proves nothing."""
    local = User.objects.create_user("2027jdoe", "2027jdoe@tjhsst.edu", password="local-pass")

    ion_login.login()

    social = UserSocialAuth.objects.get()
    assert social.user != local
    assert social.user.username != "2027jdoe"
    assert social.user.username.startswith("2027jdoe")
    local.refresh_from_db()
    assert local.check_password("local-pass")
    assert not UserSocialAuth.objects.filter(user=local).exists()


def test_the_ion_username_becomes_the_django_username_when_free(ion_login):
    ion_login.login()

    assert User.objects.get().username == "2027jdoe"


@pytest.mark.parametrize(
    "setting", ["SOCIAL_AUTH_PROTECTED_USER_FIELDS", "SOCIAL_AUTH_ION_PROTECTED_USER_FIELDS"]
)
def test_sync_profile_leaves_protected_user_fields_alone(user, settings, setting):
    """Guards against a protected email or name being overwritten at every login."""
    setattr(settings, setting, ["email", "first_name"])
    details = {"first_name": "John", "last_name": "Doe", "email": "2027jdoe@tjhsst.edu"}

    sync_profile(IonOauth2(load_strategy()), details, {}, user=user)

    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.email) == ("Jon", "Doe", "old@example.com")


def test_sync_profile_also_serves_the_oidc_backend(user):
    sync_profile(fake_backend("ion-oidc"), {"first_name": "John"}, {}, user=user)

    user.refresh_from_db()
    assert user.first_name == "John"


def test_sync_roles_leaves_oidc_logins_alone(user, student_profile):
    """OIDC claims carry no role flags: syncing would strip every role group."""
    user.groups.add(Group.objects.create(name="Ion students"))

    sync_roles(fake_backend("ion-oidc"), {}, {"groups": []}, user=user)

    assert groups_of(user) == {"Ion students"}


def test_staff_flags_already_right_are_not_saved_again(
    user, teacher_profile, settings, django_assert_num_queries
):
    settings.SOCIAL_AUTH_ION_STAFF_ROLES = ["teacher"]
    user.is_staff = True

    with django_assert_num_queries(0):
        sync_flags(user, {"teacher"})

    assert user.is_staff is True
