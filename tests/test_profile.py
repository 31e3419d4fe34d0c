"""ion_oauth.profile: Ion's token and profile JSON are checked before anything uses them."""

from __future__ import annotations

import pytest

from ion_oauth.exceptions import IonResponseError
from ion_oauth.profile import parse_profile, parse_token, roles_of

#: Stands in for the social-auth backend a failure names (``error.backend``).
BACKEND = object()


def refused(what: str, field: str) -> str:
    return (
        f"Ion's {what} response has a missing or invalid '{field}' field. "
        "Please try again later or tell the site's administrator."
    )


def assert_refused(caught, what: str, field: str, stage: str) -> None:
    assert str(caught.value) == refused(what, field)
    assert (caught.value.code, caught.value.stage) == ("missing_claim", stage)
    assert caught.value.backend is BACKEND


def test_the_recorded_student_and_teacher_profiles_pass(student_profile, teacher_profile):
    assert parse_profile(student_profile) == student_profile
    assert parse_profile(teacher_profile) == teacher_profile


@pytest.mark.parametrize(
    "field", ["id", "ion_username", "is_student", "is_teacher", "is_eighth_admin"]
)
def test_a_profile_missing_a_required_field_is_refused(student_profile, field):
    del student_profile[field]

    with pytest.raises(IonResponseError) as caught:
        parse_profile(student_profile, backend=BACKEND, stage="refresh")

    assert_refused(caught, "profile", field, "refresh")


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
        parse_profile(student_profile, backend=BACKEND, stage="refresh")

    assert_refused(caught, "profile", field, "refresh")


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
        parse_token(token_response, backend=BACKEND, stage="refresh")

    assert_refused(caught, "token", field, "refresh")


def test_a_token_response_without_optional_fields_passes():
    assert parse_token({"access_token": "a"}) == {"access_token": "a"}


def test_roles_come_from_ions_flags(student_profile, teacher_profile):
    teacher_profile["is_eighth_admin"] = True

    assert roles_of(student_profile) == {"student"}
    assert roles_of(teacher_profile) == {"teacher", "eighth_admin"}
    assert roles_of({}) == set()


# -- limits, at their edges --------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ion_username", "u" * 150),
        ("first_name", "f" * 150),
        ("display_name", "d" * 150),
        ("tj_email", "e" * 188 + "@tjhsst.edu"),  # 200 characters
        ("tj_email", "e" * 242 + "@tjhsst.edu"),  # 253
        ("tj_email", "e" * 243 + "@tjhsst.edu"),  # 254: Django's EmailField
        ("picture", "https://ion.tjhsst.edu/" + "p" * 1977),  # 2000
        ("id", 2**63 - 1),
        ("id", 1),
        ("graduation_year", 9999),
        ("graduation_year", 1),
        ("grade", {"number": None, "name": "n" * 150}),
        ("grade", {"number": 12}),
        ("grade", {}),
    ],
)
def test_a_profile_field_at_its_limit_is_accepted(student_profile, field, value):
    student_profile[field] = value

    assert parse_profile(student_profile)[field] == value


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_name", "f" * 151),
        ("display_name", "d" * 151),
        ("picture", "https://ion.tjhsst.edu/" + "p" * 1978),
        ("graduation_year", 0),
        ("grade", {"number": True}),
        ("grade", {"number": None, "name": "n" * 151}),
        ("is_teacher", None),
        ("user_type", 1),
    ],
)
def test_a_profile_field_past_its_limit_is_refused(student_profile, field, value):
    student_profile[field] = value

    with pytest.raises(IonResponseError) as caught:
        parse_profile(student_profile, backend=BACKEND, stage="refresh")

    assert_refused(caught, "profile", field, "refresh")


def test_a_refused_field_is_logged_by_name_never_by_value(student_profile, caplog):
    student_profile["last_name"] = "secret-value\x00"

    with pytest.raises(IonResponseError):
        parse_profile(student_profile)

    assert caplog.messages == ["Ion profile response has a missing or invalid 'last_name' field"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("expires_in", 1),
        ("scope", "s" * 1000),
        ("token_type", "bearer"),
        ("token_type", "BEARER"),
        ("access_token", "abc.DEF-123_~+/=="),
    ],
)
def test_a_token_response_at_its_limits_is_accepted(token_response, field, value):
    token_response[field] = value

    assert parse_token(token_response)[field] == value


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("expires_in", -1),
        ("expires_in", True),
        ("scope", "s" * 1001),
        ("token_type", None),
        ("access_token", "=abc"),
    ],
)
def test_a_token_response_past_its_limits_is_refused(token_response, field, value):
    token_response[field] = value

    with pytest.raises(IonResponseError) as caught:
        parse_token(token_response, backend=BACKEND, stage="refresh")

    assert_refused(caught, "token", field, "refresh")


def test_the_default_stages_are_the_token_exchange_and_user_info(student_profile):
    del student_profile["id"]

    with pytest.raises(IonResponseError) as profile_error:
        parse_profile(student_profile)
    with pytest.raises(IonResponseError) as token_error:
        parse_token({})

    assert profile_error.value.stage == "user_info"
    assert token_error.value.stage == "token_exchange"


class _Backend:
    def base_url(self) -> str:
        return "https://ion.tjhsst.edu"


@pytest.mark.parametrize(
    "picture",
    [
        "javascript:alert(document.cookie)",
        "data:image/svg+xml,<svg onload=alert(1)>",
        "https://tracker.example.test/pixel.gif",
        "//tracker.example.test/pixel.gif",
        "ftp://ion.tjhsst.edu/picture",
        "/api/profile/1/picture",
    ],
)
def test_a_picture_that_is_not_an_http_url_on_ion_is_dropped(student_profile, picture, caplog):
    """Guards against a site rendering a javascript: or tracking link from the profile."""
    student_profile["picture"] = picture

    profile = parse_profile(student_profile, backend=_Backend())

    assert profile["picture"] is None
    assert profile["ion_username"] == "2027jdoe"
    assert caplog.messages == [f"Ignoring a profile picture URL that is not on Ion: {picture!r}"]


def test_a_dropped_picture_url_is_logged_cut_to_100_characters(student_profile, caplog):
    """Guards against a profile filling the site's log with an arbitrarily long URL."""
    student_profile["picture"] = "https://tracker.example.test/" + "p" * 200

    parse_profile(student_profile, backend=_Backend())

    shown = student_profile["picture"][:100]
    assert caplog.messages == [f"Ignoring a profile picture URL that is not on Ion: {shown!r}"]


@pytest.mark.parametrize(
    "picture", ["https://ion.tjhsst.edu/api/profile/1/picture", "http://ion.tjhsst.edu/p"]
)
def test_a_picture_on_ion_is_kept(student_profile, picture):
    student_profile["picture"] = picture

    assert parse_profile(student_profile, backend=_Backend())["picture"] == picture
