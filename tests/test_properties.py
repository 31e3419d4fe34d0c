"""Properties that hold for every input, checked with hypothesis.

The profile mapping: every profile of Ion's shape maps onto a user without error, and
every JSON document that is not of Ion's shape is refused with ``IonResponseError``,
never with anything else. The callback: whatever query or form a browser brings to
``/complete/ion/``, the site answers with the login-error page and creates no user.
"""

from __future__ import annotations

import json
import string
from typing import Any
from urllib.parse import parse_qsl, quote_from_bytes, urlsplit

import pytest
import responses
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from social_django.models import UserSocialAuth
from social_django.utils import load_backend, load_strategy

from ion_oauth.exceptions import IonAuthError, IonResponseError
from ion_oauth.oauth import IonOauth2
from ion_oauth.profile import parse_profile
from ion_oauth.transport import check_response

# -- Ion's profile shape, spelled out on its own terms --------------------------------------

BOOLEAN_FIELDS = ("is_student", "is_teacher", "is_eighth_admin")
TEXT_FIELDS = (
    "first_name",
    "last_name",
    "full_name",
    "display_name",
    "tj_email",
    "user_type",
    "picture",
)
CHECKED_FIELDS = ("id", "ion_username", *BOOLEAN_FIELDS, *TEXT_FIELDS, "graduation_year", "grade")
#: Fields Ion sends that the site does not read; any JSON in them is fine.
UNCHECKED_FIELDS = ("sex", "title", "short_name", "nickname", "student_id", "counselor")


#: Longest text Django's user columns hold (150; the email column 254); picture is a URL.
MAX_TEXT = {"tj_email": 254, "picture": 2000}
MAX_ID = 2**63 - 1


def is_text(value: object, field: str) -> bool:
    """Storable text: not longer than its column and free of NUL, which PostgreSQL refuses."""
    return isinstance(value, str) and len(value) <= MAX_TEXT.get(field, 150) and "\x00" not in value


def is_int(value: object) -> bool:
    """A JSON integer (``True`` is a JSON boolean, not an integer)."""
    return type(value) is int


def is_ion_shape(data: object) -> bool:
    """Whether ``data`` is a profile of Ion's shape, independently of ``parse_profile``."""
    if not isinstance(data, dict):
        return False
    if any(field not in data for field in ("id", "ion_username", *BOOLEAN_FIELDS)):
        return False
    grade = data.get("grade")
    return (
        is_int(data["id"])
        and 0 < data["id"] <= MAX_ID
        and is_text(data["ion_username"], "ion_username")
        and data["ion_username"].strip() != ""
        and all(type(data[field]) is bool for field in BOOLEAN_FIELDS)
        and all(data.get(field) is None or is_text(data[field], field) for field in TEXT_FIELDS)
        and (
            data.get("graduation_year") is None
            or (is_int(data["graduation_year"]) and 0 < data["graduation_year"] < 10_000)
        )
        and (
            grade is None
            or (
                isinstance(grade, dict)
                and (grade.get("number") is None or is_int(grade["number"]))
                and (grade.get("name") is None or is_text(grade["name"], "name"))
            )
        )
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=5,
)
# No NUL (PostgreSQL refuses it) and no lone surrogates (the transport refuses those).
storable_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=150
)
optional_text = st.none() | storable_text
ion_profiles = st.builds(
    lambda known, extra: {**extra, **known},
    st.fixed_dictionaries(
        {
            "id": st.integers(min_value=1, max_value=MAX_ID),
            "ion_username": storable_text.filter(str.strip),
            **dict.fromkeys(BOOLEAN_FIELDS, st.booleans()),
        },
        optional={
            **dict.fromkeys(TEXT_FIELDS, optional_text),
            # Ion's pictures are its own URLs; anything else is dropped (test_profile.py).
            "picture": st.none()
            | st.just("")
            | st.text(string.ascii_letters + string.digits + "/-_.", max_size=100).map(
                lambda path: f"https://ion.tjhsst.edu/{path}"
            ),
            "graduation_year": st.none() | st.integers(min_value=1, max_value=9999),
            "grade": st.none()
            | st.fixed_dictionaries(
                {},
                optional={"number": st.none() | st.integers(), "name": optional_text},
            ),
            **dict.fromkeys(UNCHECKED_FIELDS, json_values),
        },
    ),
    # Fields Ion may add one day; a known name here would bypass the typed strategies above.
    st.dictionaries(
        st.text(max_size=12).filter(lambda k: k not in CHECKED_FIELDS), json_values, max_size=3
    ),
)
DROP = object()
#: A profile of Ion's shape with one checked field dropped or replaced by any JSON value.
changed_profiles = st.builds(
    lambda profile, field, value: (
        {k: v for k, v in profile.items() if k != field}
        if value is DROP
        else {**profile, field: value}
    ),
    ion_profiles,
    st.sampled_from(CHECKED_FIELDS),
    # Scalars of every JSON type come up often, so both sides of each check are reached.
    st.just(DROP) | st.none() | st.booleans() | st.integers() | st.text() | json_values,
)


def from_the_wire(data: Any) -> dict[str, Any]:
    """What ``IonOauth2.user_data`` does to a 200 answer from ``/api/profile``."""
    return parse_profile(check_response(200, json.dumps(data).encode(), {}, what="profile"))


@pytest.fixture(scope="module")
def backend() -> IonOauth2:
    ion: IonOauth2 = load_backend(load_strategy(), "ion", redirect_uri=None)
    return ion


# -- the profile mapping ------------------------------------------------------------------


@given(ion_profiles)
def test_the_strategy_makes_only_profiles_of_ions_shape(profile):
    """Guards the oracle and the strategy against drifting apart."""
    assert is_ion_shape(profile)


@given(ion_profiles)
def test_any_profile_of_ions_shape_passes_parse_profile_unchanged(profile):
    assert parse_profile(profile) == profile


@given(ion_profiles)
def test_any_profile_of_ions_shape_read_from_the_wire_is_accepted_unchanged(profile):
    assert from_the_wire(profile) == profile


@given(profile=ion_profiles)
def test_any_profile_of_ions_shape_maps_onto_the_user_fields(backend, profile):
    details = backend.get_user_details(parse_profile(profile))

    assert details == {
        "username": profile["ion_username"],
        "email": profile.get("tj_email") or "",
        "fullname": profile.get("full_name") or "",
        "first_name": profile.get("first_name") or "",
        "last_name": profile.get("last_name") or "",
    }


@given(profile=ion_profiles)
def test_any_profile_of_ions_shape_maps_onto_its_id_as_the_uid(backend, profile):
    parsed = parse_profile(profile)

    assert backend.get_user_id(backend.get_user_details(parsed), parsed) == str(profile["id"])


@given(st.one_of(changed_profiles, json_values))
def test_any_json_not_of_ions_shape_is_refused_with_a_response_error(data):
    assume(not is_ion_shape(data))

    with pytest.raises(IonResponseError):
        from_the_wire(data)


@given(st.binary())
def test_any_bytes_from_the_profile_endpoint_give_a_profile_or_a_response_error(body):
    try:
        profile = parse_profile(check_response(200, body, {}, what="profile"))
    except IonResponseError:
        return
    assert is_ion_shape(profile)


@given(
    status=st.integers(min_value=100, max_value=599),
    body=st.binary() | json_values.map(lambda value: json.dumps(value).encode()),
    retry_after=st.text(alphabet=st.characters(max_codepoint=255)),
)
def test_any_answer_from_ion_gives_a_json_object_or_an_ion_auth_error(status, body, retry_after):
    try:
        data = check_response(status, body, {"Retry-After": retry_after}, what="profile")
    except IonAuthError:
        return
    assert 200 <= status < 300
    assert isinstance(data, dict)


# -- the callback -------------------------------------------------------------------------

CALLBACK_NAMES = ("code", "state", "error", "error_description", "partial_token", "next")
names = st.sampled_from(CALLBACK_NAMES).map(str.encode) | st.binary(max_size=16)
values = st.binary(max_size=64) | st.text(max_size=64).map(str.encode)
#: Query pairs as a browser could send them: repeated names, any bytes, percent-encoded.
callback_pairs = st.lists(st.tuples(names, values), max_size=6)
#: Each example is one or two requests through the whole site: fewer of them, and no
#: per-example deadline, which a busy CI machine would miss for reasons of its own.
DB_SETTINGS = settings(deadline=None, max_examples=60)


def encode(pairs: list[tuple[bytes, bytes]]) -> str:
    return "&".join(f"{quote_from_bytes(name)}={quote_from_bytes(value)}" for name, value in pairs)


def begin_login(client: Client) -> str:
    """Start a login as the site's button does; return the state sent to Ion."""
    response = client.post("/login/ion/")
    return dict(parse_qsl(urlsplit(response["Location"]).query))["state"]


def ion_refusing_every_code() -> responses.RequestsMock:
    """Ion as it answers a code it never issued: 400 ``invalid_grant``."""
    mock = responses.RequestsMock(assert_all_requests_are_fired=False)
    mock.add(
        responses.POST,
        f"{django_settings.SOCIAL_AUTH_ION_BASE_URL}/oauth/token/",
        json={"error": "invalid_grant"},
        status=400,
    )
    return mock


def assert_login_failed(response: Any) -> None:
    assert (response.status_code, response["Location"]) == (302, "/login-error/")
    assert (get_user_model().objects.count(), UserSocialAuth.objects.count()) == (0, 0)


@pytest.mark.django_db
@DB_SETTINGS
@given(pairs=callback_pairs)
def test_any_callback_query_without_a_login_started_ends_on_the_login_error_page(pairs):
    with ion_refusing_every_code():
        response = Client().get(f"/complete/ion/?{encode(pairs)}")

    assert_login_failed(response)


@pytest.mark.django_db
@DB_SETTINGS
@given(pairs=callback_pairs, with_state=st.booleans(), code=values)
# Always tried: the code reaches Ion's token endpoint, and Cancel on Ion's consent page.
@example(pairs=[], with_state=True, code=b"a-code-ion-never-issued")
@example(pairs=[(b"error", b"access_denied")], with_state=True, code=b"")
def test_any_callback_query_for_a_started_login_ends_on_the_login_error_page(
    pairs, with_state, code
):
    client = Client()
    state = begin_login(client).encode()
    query = [(b"code", code), *([(b"state", state)] if with_state else []), *pairs]

    with ion_refusing_every_code():
        response = client.get(f"/complete/ion/?{encode(query)}")

    assert_login_failed(response)


@pytest.mark.django_db
@DB_SETTINGS
@given(pairs=callback_pairs, with_state=st.booleans())
def test_any_callback_form_post_for_a_started_login_ends_on_the_login_error_page(pairs, with_state):
    client = Client()
    state = begin_login(client).encode()
    form = [*([(b"state", state)] if with_state else []), *pairs]

    with ion_refusing_every_code():
        response = client.post(
            "/complete/ion/", encode(form), content_type="application/x-www-form-urlencoded"
        )

    assert_login_failed(response)
