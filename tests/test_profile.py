"""ion_oauth.profile: Ion's token and profile JSON are checked before anything uses them."""

from __future__ import annotations

import pytest

from ion_oauth.exceptions import IonResponseError
from ion_oauth.profile import parse_profile, parse_token, roles_of


def test_the_recorded_student_and_teacher_profiles_pass(student_profile, teacher_profile):
    assert parse_profile(student_profile) == student_profile
    assert parse_profile(teacher_profile) == teacher_profile


@pytest.mark.parametrize(
    "field", ["id", "ion_username", "is_student", "is_teacher", "is_eighth_admin"]
)
def test_a_profile_missing_a_required_field_is_refused(student_profile, field):
    del student_profile[field]

    with pytest.raises(IonResponseError) as caught:
        parse_profile(student_profile)

    assert f"'{field}'" in str(caught.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "1"),
        ("id", True),
        ("id", 0),
        ("ion_username", ""),
        ("ion_username", 7),
        ("ion_username", "   "),
        ("first_name", 3),
        ("tj_email", ["a"]),
        ("is_student", "yes"),
        ("graduation_year", "2027"),
        ("graduation_year", True),
        ("grade", "senior"),
        ("grade", {"number": "12", "name": "senior"}),
        ("grade", {"number": 12, "name": 12}),
        ("picture", 5),
        ("last_name", "Doe\x00"),
        ("ion_username", "u" * 151),
        ("tj_email", "e" * 255),
        ("id", 2**63),
        ("graduation_year", 10_000),
        ("grade", {"number": 12, "name": "senior\x00"}),
    ],
)
def test_a_profile_field_of_the_wrong_type_is_refused(student_profile, field, value):
    student_profile[field] = value

    with pytest.raises(IonResponseError) as caught:
        parse_profile(student_profile)

    assert f"'{field}'" in str(caught.value)
    assert caught.value.code == "missing_claim"


def test_optional_fields_may_be_null_or_absent(student_profile):
    student_profile.update(first_name=None, tj_email=None, grade=None, graduation_year=None)
    del student_profile["picture"]

    assert parse_profile(student_profile)["tj_email"] is None


def test_the_recorded_token_response_passes(token_response):
    assert parse_token(token_response) == token_response


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("access_token", ""),
        ("access_token", None),
        ("token_type", "mac"),
        ("expires_in", "36000"),
        ("expires_in", 0),
        ("refresh_token", 5),
        ("scope", ["read"]),
        ("scope", "read\x00"),
        ("access_token", "token with spaces"),
        ("access_token", "t\u20ac"),
        ("refresh_token", "bad\r\ntoken"),
    ],
)
def test_a_bad_token_response_is_refused(token_response, field, value):
    token_response[field] = value

    with pytest.raises(IonResponseError) as caught:
        parse_token(token_response)

    assert f"'{field}'" in str(caught.value)


def test_a_token_response_without_optional_fields_passes():
    assert parse_token({"access_token": "a"}) == {"access_token": "a"}


def test_roles_come_from_ions_flags(student_profile, teacher_profile):
    teacher_profile["is_eighth_admin"] = True

    assert roles_of(student_profile) == {"student"}
    assert roles_of(teacher_profile) == {"teacher", "eighth_admin"}
    assert roles_of({}) == set()
