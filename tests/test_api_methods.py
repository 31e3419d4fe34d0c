"""The typed API methods' handling of Ion's answers, with Ion faked by ``responses``: every
error shape, unreadable bodies, and page links; the real sandbox is in
tests/api/test_api_methods.py."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import responses

from ion_oauth.api import IonClient
from ion_oauth.exceptions import (
    IonApiError,
    IonNotFound,
    IonPermissionDenied,
    IonResponseError,
    IonSignupRefused,
    IonUnavailable,
)
from ion_oauth.resources import Announcement, Day, Picture, Profile

ION = "https://ion.example.test"


@pytest.fixture
def client() -> IonClient:
    return IonClient.from_token(
        {"access_token": "access-1", "refresh_token": "refresh-1", "expires_in": 36000},
        client_id="id",
        client_secret="secret",
        on_token=lambda token: None,
        base_url=ION,
    )


@pytest.mark.parametrize(
    ("status", "body", "kind", "message", "fields"),
    [
        (404, {"detail": "Not found."}, IonNotFound, "Not found.", {}),
        (
            404,
            {"details": ["Object does not exist (in database)."]},
            IonNotFound,
            "Object does not exist (in database).",
            {},
        ),
        (
            403,
            {"detail": "You do not have permission to perform this action."},
            IonPermissionDenied,
            "You do not have permission to perform this action.",
            {},
        ),
        (400, ["Invalid format for date."], IonApiError, "Invalid format for date.", {}),
        (
            400,
            {"error": "You are not an administrator."},
            IonApiError,
            "You are not an administrator.",
            {},
        ),
        (
            400,
            {"activity": ['Invalid pk "9" - object does not exist.']},
            IonApiError,
            'activity: Invalid pk "9" - object does not exist.',
            {"activity": ['Invalid pk "9" - object does not exist.']},
        ),
        (
            400,
            {"non_field_errors": ["Either scheduled_activity, or block and activity must exist."]},
            IonApiError,
            "Either scheduled_activity, or block and activity must exist.",
            {"non_field_errors": ["Either scheduled_activity, or block and activity must exist."]},
        ),
        (400, {"title": "not a list"}, IonApiError, "title: not a list", {"title": ["not a list"]}),
        (400, 7, IonApiError, "Ion refused the request (HTTP 400).", {}),
    ],
)
def test_every_error_shape_becomes_an_exception_with_ions_message(  # noqa: PLR0917
    client: IonClient,
    fake_ion: responses.RequestsMock,
    status: int,
    body: Any,
    kind: type,
    message: str,
    fields: dict[str, Any],
) -> None:
    fake_ion.get(f"{ION}/api/blocks/1", status=status, json=body)

    with pytest.raises(IonApiError) as error:
        client.block(1)

    assert type(error.value) is kind
    assert str(error.value) == message
    assert error.value.status_code == status
    assert error.value.field_errors == fields


def test_ions_html_page_not_found_is_not_found(
    client: IonClient, fake_ion: responses.RequestsMock
) -> None:
    fake_ion.get(f"{ION}/api/emerg", status=404, body="<html>Page Not Found</html>")

    with pytest.raises(IonNotFound, match=r"Ion has no such page \(HTTP 404\)"):
        client.emergency()


def test_several_refusals_give_every_reason(
    client: IonClient, fake_ion: responses.RequestsMock
) -> None:
    messages = [
        "This activity is full. You may not sign up for it at this time.",
        "This block has been locked.",
        "Something new Ion may say.",
    ]
    fake_ion.post(f"{ION}/api/signups/user", status=400, json={"details": messages})

    with pytest.raises(IonSignupRefused) as error:
        client.sign_up(1)

    assert error.value.reasons == ["full", "locked", "other"]
    assert error.value.reason == "full"
    assert error.value.messages == messages
    assert str(error.value) == " ".join(messages)


def test_a_field_error_on_a_signup_is_not_a_refusal(
    client: IonClient, fake_ion: responses.RequestsMock
) -> None:
    fake_ion.post(f"{ION}/api/signups/user", status=400, json={"block": ["Invalid pk."]})

    with pytest.raises(IonApiError) as error:
        client.sign_up(block=1, activity=2)

    assert not isinstance(error.value, IonSignupRefused)
    assert error.value.field_errors == {"block": ["Invalid pk."]}
    sent = fake_ion.calls[0].request.body
    assert "use_scheduled_activity=false" in sent
    assert "block=1" in sent


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_are_unavailable(
    client: IonClient, fake_ion: responses.RequestsMock, status: int
) -> None:
    fake_ion.post(
        f"{ION}/api/signups/user/favorites",
        status=status,
        json={"details": ["Unknown error occurred."]},
    )

    with pytest.raises(IonUnavailable):
        client.toggle_favorite(1)


def test_a_redirect_is_a_response_error(
    client: IonClient, fake_ion: responses.RequestsMock
) -> None:
    fake_ion.get(f"{ION}/api/emerg", status=302, headers={"Location": "/login"})

    with pytest.raises(IonResponseError):
        client.emergency()


@pytest.mark.parametrize(
    "body",
    [b"not json", b"\xff", b'{"status": "yes", "message": ""}', b'{"message": ""}', b"[]"],
)
def test_an_unreadable_answer_is_a_response_error(
    client: IonClient, fake_ion: responses.RequestsMock, body: bytes
) -> None:
    fake_ion.get(f"{ION}/api/emerg", body=body)

    with pytest.raises(IonResponseError):
        client.emergency()


def test_a_page_without_results_is_a_response_error(
    client: IonClient, fake_ion: responses.RequestsMock
) -> None:
    fake_ion.get(f"{ION}/api/bus", json={"count": 0})

    with pytest.raises(IonResponseError) as caught:
        list(client.bus_routes())

    assert str(caught.value) == (
        "Ion sent a page of results this site could not read. Please try again later."
    )


AWAY = "Ion's link to the next page points away from Ion ({}); it was not followed."


@pytest.mark.parametrize(
    ("following", "message"),
    [
        ("https://evil.example.test/api/bus?page=2", AWAY.format("https://evil.example.test")),
        ("https://ion.example.test/elsewhere?page=2", AWAY.format("https://ion.example.test")),
        (7, "Ion sent a page link this site could not read. Please try again later."),
    ],
)
def test_a_next_link_away_from_ion_is_not_followed(
    client: IonClient, fake_ion: responses.RequestsMock, following: Any, message: str
) -> None:
    route = {"id": 1, "route_name": "JT-101", "space": "", "bus_number": "", "status": "o"}
    fake_ion.get(
        f"{ION}/api/bus",
        json={"count": 2, "next": following, "previous": None, "results": [route]},
    )

    routes = client.bus_routes()

    assert next(routes).route_name == "JT-101"
    with pytest.raises(IonResponseError) as caught:
        next(routes)
    assert str(caught.value) == message
    assert len(fake_ion.calls) == 1


def test_next_links_on_ion_are_followed_with_their_query(
    client: IonClient, fake_ion: responses.RequestsMock
) -> None:
    route = {"id": 1, "route_name": "JT-101", "space": "", "bus_number": "", "status": "o"}
    fake_ion.get(
        f"{ION}/api/bus?page=2",
        json={"count": 2, "next": None, "previous": f"{ION}/api/bus", "results": [route]},
        match=[responses.matchers.query_param_matcher({"page": "2"})],
    )
    fake_ion.get(
        f"{ION}/api/bus",
        json={"count": 2, "next": f"{ION}/api/bus?page=2", "previous": None, "results": [route]},
        match=[responses.matchers.query_param_matcher({})],
    )

    assert len(list(client.bus_routes())) == 2
    assert all(
        call.request.headers["Authorization"] == "Bearer access-1" for call in fake_ion.calls
    )


def test_the_picture_asks_for_an_image_and_reads_its_real_type(
    client: IonClient, fake_ion: responses.RequestsMock
) -> None:
    fake_ion.get(
        f"{ION}/api/profile/2027jdoe/picture",
        body=b"\xff\xd8\xff\xe0jpeg",
        content_type="image/jpeg",
    )

    picture = client.picture("2027jdoe")

    assert picture.content_type == "image/jpeg"
    assert fake_ion.calls[0].request.headers["Accept"] == "image/*"
    assert Picture(b"????", "image/jpeg").content_type == "image/jpeg"
    assert Picture(b"GIF89a..", "image/jpeg").content_type == "image/gif"


def test_a_refused_picture_is_an_exception(
    client: IonClient, fake_ion: responses.RequestsMock
) -> None:
    fake_ion.get(
        f"{ION}/api/profile/1/picture", status=404, body="details", content_type="image/jpg"
    )

    with pytest.raises(IonNotFound):
        client.picture(1)


@pytest.mark.parametrize(
    ("json", "problem"),
    [
        (
            {
                "date": "2026-12-01",
                "day_type": {
                    "name": "x",
                    "special": False,
                    "blocks": [{"order": 1, "name": "P", "start": "8h", "end": "9:00"}],
                },
            },
            "not a time",
        ),
        (
            {"date": "12/01/2026", "day_type": {"name": "x", "special": False, "blocks": []}},
            "not a date",
        ),
        (
            {"date": "2026-12-01", "day_type": {"name": "x", "special": False, "blocks": {}}},
            "'blocks'",
        ),
        ({"date": "2026-12-01", "day_type": "Red"}, "'day_type'"),
        (
            {"date": "2026-12-01", "day_type": {"name": "x", "special": False, "blocks": [["P"]]}},
            "JSON object",
        ),
    ],
)
def test_a_malformed_day_is_a_response_error(json: Any, problem: str) -> None:
    with pytest.raises(IonResponseError, match=problem):
        Day.from_json(json)


def announcement(**changes: Any) -> dict[str, Any]:
    base = {
        "url": "x",
        "id": 1,
        "title": "t",
        "content": "<p>c</p>",
        "author": "a",
        "user": None,
        "added": "2026-12-02T02:22:28.402593Z",
        "updated": "2026-12-02T02:22:28.402593Z",
        "groups": [2],
        "pinned": False,
    }
    return {**base, **changes}


def test_timestamps_are_aware_datetimes() -> None:
    item = Announcement.from_json(announcement())

    assert item.added == datetime.datetime(
        2026, 12, 2, 2, 22, 28, 402593, tzinfo=datetime.timezone.utc
    )
    assert item.user_id is None


@pytest.mark.parametrize(
    "changes",
    [
        {"added": "yesterday"},
        {"added": "2026-12-02T02:22:28"},
        {"groups": ["Faculty"]},
        {"groups": [True]},
        {"id": True},
        {"pinned": "no"},
    ],
)
def test_a_malformed_announcement_is_a_response_error(changes: dict[str, Any]) -> None:
    with pytest.raises(IonResponseError):
        Announcement.from_json(announcement(**changes))


def test_a_profile_lacking_a_field_says_which() -> None:
    with pytest.raises(IonResponseError, match="no 'ion_username'"):
        Profile.from_json({"id": 1})


def test_rooms_must_be_strings() -> None:
    from ion_oauth.resources import BlockActivity

    with pytest.raises(IonResponseError, match="'rooms'"):
        BlockActivity.from_json(
            {
                "id": 1,
                "scheduled_activity": {"id": 1},
                "name": "n",
                "name_with_flags_for_user": "n",
                "description": "",
                "title": "",
                "comments": "",
                "cancelled": False,
                "favorited": False,
                "restricted": False,
                "restricted_for_user": False,
                "sticky": False,
                "both_blocks": False,
                "one_a_day": False,
                "special": False,
                "administrative": False,
                "presign": False,
                "roster": {"count": 0, "capacity": 1},
                "rooms": [1],
                "sponsors": [],
            }
        )


def test_bad_signup_and_block_arguments(client: IonClient) -> None:
    with pytest.raises(ValueError, match="not both"):
        client.signups(on=datetime.date(2026, 12, 1), start=datetime.date(2026, 12, 1))


def test_the_api_root_must_be_an_object(
    client: IonClient, fake_ion: responses.RequestsMock
) -> None:
    fake_ion.get(f"{ION}/api", json=["Schedule"])

    with pytest.raises(IonResponseError):
        client.api_root()
