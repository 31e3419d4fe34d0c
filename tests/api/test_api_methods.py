"""Every typed API method against a real Ion sandbox over loopback HTTP, with its demo data
(people 1 student, 2 teacher, 3 eighth admin, 4 and 5 students; see the sandbox README)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ion_oauth import transport
from ion_oauth.api import IonClient
from ion_oauth.exceptions import (
    IonApiError,
    IonNotFound,
    IonPermissionDenied,
    IonSignupRefused,
)
from ion_oauth.resources import Activity, Block, Day
from ion_oauth.testing import IonSandbox, fetch_tokens

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ion() -> Iterator[IonSandbox]:
    with IonSandbox(redirect_uris=["http://testserver/complete/ion/"]) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def clients(ion: IonSandbox) -> dict[int, IonClient]:
    """A client without Django for each demo person, with a ``read write`` token."""
    return {
        person: IonClient.from_token(
            fetch_tokens(ion, username=person, scope="read write"),
            client_id=ion.client_id,
            client_secret=ion.client_secret,
            on_token=lambda token: None,
            base_url=ion.url,
        )
        for person in (1, 2, 3, 4)
    }


@pytest.fixture(autouse=True)
def fresh_data(ion: IonSandbox) -> None:
    """Each test starts from the demo data, whatever the one before signed up for."""
    ion.reset_api_data()


@pytest.fixture
def student(clients: dict[int, IonClient]) -> IonClient:
    return clients[1]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The URLs of the requests the client sends (still sent, over real HTTP)."""
    urls: list[str] = []
    real = transport.send

    def counting(method: str, url: str, **kwargs: Any) -> Any:
        urls.append(url)
        return real(method, url, **kwargs)

    monkeypatch.setattr(transport, "send", counting)
    return urls


def test_profile_own_by_id_and_by_username(student: IonClient, clients: Any) -> None:
    own = student.profile()
    teacher = student.profile("MSMITH")
    by_teacher = clients[2].profile(4)

    assert (own.id, own.username, own.grade.name) == (1, "2027jdoe", "senior")
    assert (teacher.id, teacher.is_teacher, teacher.graduation_year) == (2, True, None)
    assert teacher.student_id is None
    assert by_teacher.student_id == 1800123
    assert student.profile(4).student_id is None


def test_profile_of_nobody_is_not_found(student: IonClient) -> None:
    with pytest.raises(IonNotFound) as error:
        student.profile("nosuchuser")

    assert str(error.value) == "Object does not exist (in database)."
    assert error.value.status_code == 404


def test_picture_is_a_png_that_ion_calls_a_jpeg(student: IonClient) -> None:
    picture = student.picture("msmith", "senior")

    assert picture.declared_type == "image/jpeg"
    assert picture.content_type == "image/png"
    assert len(picture.content) > 100


def test_picture_of_nobody_is_not_found(student: IonClient) -> None:
    with pytest.raises(IonNotFound):
        student.picture(99999)


@pytest.mark.parametrize(("user", "year"), [(1, "alumni"), ("a/b", None), ("", None)])
def test_picture_arguments_are_checked_before_any_request(
    student: IonClient, sent: list[str], user: Any, year: Any
) -> None:
    with pytest.raises(ValueError, match=r"year|username"):
        student.picture(user, year)

    assert sent == []


def test_search(student: IonClient) -> None:
    found = list(student.search("type:teacher"))

    assert [person.username for person in found] == ["msmith", "eadmin"]
    assert found[0].grade is None
    assert next(iter(student.search("last:Lee"))).grade.number == 11  # type: ignore[union-attr]
    assert list(student.search("zzzzzz")) == []
    with pytest.raises(ValueError, match="query"):
        student.search(" ")


def test_schedule_of_a_day_has_times(student: IonClient) -> None:
    days = list(student.schedule_days())
    day = student.schedule(days[0].date)

    assert day == days[0]
    assert day.is_school_day
    assert day.periods[0].start == datetime.time(8, 40)
    assert all(p.start < p.end for p in day.periods)


def test_a_day_without_school_has_no_periods(student: IonClient) -> None:
    saturday = datetime.date(2026, 12, 5)

    day = student.schedule(saturday)

    assert not day.is_school_day
    assert day.name == "NO SCHOOL<br>"


def test_the_coming_days_take_two_requests_for_ten_days(
    student: IonClient, sent: list[str]
) -> None:
    days = student.schedule_days()

    assert sent == []  # lazy: nothing is fetched until the iteration starts
    dates = [day.date for day in days]
    assert len(dates) == 10
    assert dates == sorted(dates)
    assert len(sent) == 2
    assert "page_size=7" in sent[0]


def test_blocks_and_a_block_with_its_activities(student: IonClient) -> None:
    blocks = list(student.blocks())
    first = student.block(blocks[0].id)

    assert [b.letter for b in blocks] == ["A", "B", "A", "B"]
    assert list(student.blocks(blocks[0].date)) == blocks[:2]
    assert list(student.blocks(start=blocks[2].date)) == blocks[2:]
    names = [a.name_with_flags for a in first.activities]
    assert names == ["Chess Club", "Math Team", "Robotics Club", "Science Olympiad (R)"]
    chess = first.activities[0]
    assert (chess.is_full, chess.capacity, chess.rooms, chess.sponsors) == (
        True,
        1,
        ("201",),
        ("Garcia",),
    )
    assert first.activities[1].cancelled is True
    with pytest.raises(ValueError, match="not both"):
        student.blocks(blocks[0].date, start=blocks[0].date)


def test_a_missing_block_is_not_found(student: IonClient) -> None:
    with pytest.raises(IonNotFound, match=r"Not found\."):
        student.block(99999)


def test_activities_and_an_activity(student: IonClient) -> None:
    listed = list(student.activities())
    robotics = student.activity(1)

    assert [a.name for a in listed][:2] == ["Robotics Club", "Chess Club"]
    assert [s.scheduled_activity_id for s in robotics.scheduled_on] == [1, 5, 8, 10]
    with pytest.raises(IonNotFound, match="No EighthActivity"):
        student.activity(99999)


def test_sign_up_and_see_it_in_signups_and_roster(student: IonClient) -> None:
    activity = student.sign_up(1)
    by_block = student.sign_up(block=3, activity=2)

    assert isinstance(activity, Activity)
    assert (activity.name, by_block.name) == ("Robotics Club", "Chess Club")
    signups = student.signups()
    assert [(s.block.letter, s.activity_title) for s in signups] == [
        ("A", "Robotics Club"),
        ("B", "Senior Seminar (S)"),
        ("A", "Chess Club"),
    ]
    roster = student.roster(1)
    assert [m.username for m in roster.members] == ["2027jdoe"]
    assert roster.count == 2


def test_switching_within_a_block_replaces_the_signup(student: IonClient) -> None:
    student.sign_up(8)
    student.sign_up(9)

    later = student.signups(on=student.block(3).date)
    assert [s.scheduled_activity_id for s in later] == [9]


@pytest.mark.parametrize(
    ("scheduled", "reason", "message"),
    [
        (4, "cancelled", "This activity has been cancelled for this block."),
        (
            3,
            "restricted",
            "You may not sign up for this restricted activity. You are not on the authorized list.",
        ),
        (2, "full", "This activity is full. You may not sign up for it at this time."),
        (5, "sticky", "You may not switch out of a sticky activity."),
    ],
)
def test_every_signup_refusal_carries_ions_reason_and_message(
    student: IonClient, scheduled: int, reason: str, message: str
) -> None:
    with pytest.raises(IonSignupRefused) as error:
        student.sign_up(scheduled)

    assert (error.value.reason, str(error.value), error.value.status_code) == (
        reason,
        message,
        400,
    )
    assert [s.scheduled_activity_id for s in student.signups()] == [7]


def test_a_teacher_may_not_sign_themself_up(clients: dict[int, IonClient]) -> None:
    with pytest.raises(IonSignupRefused) as error:
        clients[2].sign_up(1)

    assert error.value.reason == "not_allowed"


def test_an_eighth_admin_signs_a_student_up_with_force(clients: dict[int, IonClient]) -> None:
    admin = clients[3]

    with pytest.raises(IonSignupRefused, match="full"):
        admin.sign_up(2, user_id=1)
    admin.sign_up(2, user_id=1, force=True)

    assert 2 in [s.scheduled_activity_id for s in clients[1].signups()]


def test_a_student_may_not_sign_up_someone_else(student: IonClient) -> None:
    with pytest.raises(IonPermissionDenied) as error:
        student.sign_up(1, user_id=4)

    assert str(error.value) == "You do not have permission to perform this action."


def test_force_is_for_admins(student: IonClient) -> None:
    with pytest.raises(IonApiError) as error:
        student.sign_up(1, force=True)

    assert not isinstance(error.value, IonSignupRefused)
    assert str(error.value) == "You are not an administrator."


def test_an_unknown_scheduled_activity_is_a_field_error(student: IonClient) -> None:
    with pytest.raises(IonApiError) as error:
        student.sign_up(99999)

    assert error.value.field_errors == {
        "scheduled_activity": ['Invalid pk "99999" - object does not exist.']
    }
    assert str(error.value) == 'scheduled_activity: Invalid pk "99999" - object does not exist.'


def test_an_activity_not_in_the_block_is_not_found(student: IonClient) -> None:
    with pytest.raises(IonNotFound):
        student.sign_up(block=1, activity=5)


@pytest.mark.parametrize(
    "arguments",
    [{}, {"block": 1}, {"scheduled_activity": 1, "block": 1, "activity": 1}],
)
def test_sign_up_arguments_are_checked_before_any_request(
    student: IonClient, sent: list[str], arguments: dict[str, Any]
) -> None:
    with pytest.raises(ValueError, match=r"scheduled_activity"):
        student.sign_up(**arguments)

    assert sent == []


def test_favorites_toggle(student: IonClient) -> None:
    before = [a.id for a in student.favorites()]
    student.toggle_favorite(2)
    during = [a.id for a in student.favorites()]
    student.toggle_favorite(2)

    assert (before, during) == ([1], [1, 2])
    assert [a.id for a in student.favorites()] == [1]


def test_a_student_sees_another_students_signups_only_if_shown(student: IonClient) -> None:
    assert student.signups(5) == []
    assert [s.user_id for s in student.signups(4)] == [4]


def test_announcements(student: IonClient, clients: dict[int, IonClient]) -> None:
    mine = list(student.announcements())
    faculty = clients[2].announcement(3)

    assert [a.id for a in mine] == [1, 2]
    assert mine[0].pinned is True
    assert mine[0].added.tzinfo is not None
    assert faculty.groups == (2,)
    with pytest.raises(IonNotFound, match="No Announcement"):
        student.announcement(3)


def test_bus_routes(student: IonClient) -> None:
    routes = list(student.bus_routes())

    assert [r.route_name for r in routes] == ["JT-101", "JT-205", "JT-310"]
    assert routes[0].arrived
    assert routes[2].delayed
    assert student.bus_route(2).space == ""
    with pytest.raises(IonNotFound):
        student.bus_route(99999)


def test_emergency(student: IonClient, ion: IonSandbox) -> None:
    assert student.emergency().status is False
    ion.set_emergency("<h3>Closed</h3>")

    assert student.emergency().message == "<h3>Closed</h3>"


def test_api_root(student: IonClient) -> None:
    root = student.api_root()

    assert list(root)[:2] == ["Schedule", "Announcements"]


def test_a_read_token_can_sign_up_because_ion_checks_no_scope(ion: IonSandbox) -> None:
    reader = IonClient.from_token(
        fetch_tokens(ion, username=4),
        client_id=ion.client_id,
        client_secret=ion.client_secret,
        on_token=lambda token: None,
        base_url=ion.url,
    )

    assert reader.sign_up(1).name == "Robotics Club"


def test_a_year_of_blocks_is_two_requests(tmp_path: Path, sent: list[str]) -> None:
    start = datetime.date(2026, 8, 24)
    blocks = [
        {
            "id": n + 1,
            "date": (start + datetime.timedelta(days=n // 2)).isoformat(),
            "block_letter": "AB"[n % 2],
        }
        for n in range(300)
    ]
    data = tmp_path / "year.json"
    data.write_text(json.dumps({"blocks": blocks}))
    with IonSandbox(
        redirect_uris=["http://testserver/complete/ion/"],
        args=["--data", str(data), "--today", "2026-12-02"],
    ) as ion:
        client = IonClient.from_token(
            fetch_tokens(ion, username=1),
            client_id=ion.client_id,
            client_secret=ion.client_secret,
            on_token=lambda token: None,
            base_url=ion.url,
        )
        sent.clear()
        year = list(client.blocks())

    assert len(year) == 300
    assert all(isinstance(block, Block) for block in year)
    assert len(sent) == 2
    assert "page_size=200" in sent[0]


def test_days_are_typed(student: IonClient) -> None:
    assert all(isinstance(day, Day) for day in student.schedule_days())
