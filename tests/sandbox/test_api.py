"""The sandbox's REST API beyond what the recordings show: the demo data is always current,
signups switch and refuse like Ion's, ``--data`` and ``--today`` work and fail clearly.

Exchanges recorded from a real Ion are replayed in ``test_api_fidelity.py``.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from ion_oauth.testing import IonSandbox, IonSandboxError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ion"
FULL = "This activity is full. You may not sign up for it at this time."


@pytest.fixture(scope="module")
def demo() -> Iterator[IonSandbox]:
    """A sandbox of its own with the demo data, which these tests change."""
    with IonSandbox() as sandbox:
        yield sandbox


@pytest.fixture
def call(demo: IonSandbox, sign_in: Any) -> Callable[..., requests.Response]:
    """``call(person, method, path, **requests_kwargs)`` with that person's token, on the
    module's sandbox: for tests that change nothing other tests look at."""
    return caller(demo, sign_in)


@pytest.fixture
def fresh(sign_in: Any) -> Iterator[Callable[..., requests.Response]]:
    """Like ``call``, on a sandbox of the test's own, for tests that sign people up."""
    with IonSandbox() as sandbox:
        yield caller(sandbox, sign_in)


def caller(demo: IonSandbox, sign_in: Any) -> Any:
    tokens: dict[int, str] = {}

    def call(person: int | None, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if person is not None:
            if person not in tokens:
                tokens[person] = sign_in(demo, person, "read write")["access_token"]
            headers["Authorization"] = f"Bearer {tokens[person]}"
        return requests.request(method, demo.url + path, headers=headers, timeout=10, **kwargs)

    call.sandbox = demo  # type: ignore[attr-defined]
    return call


def test_demo_schedule_starts_today_or_the_next_school_day(call: Any) -> None:
    body = call(None, "GET", "/api/schedule?page_size=7").json()

    today = datetime.datetime.now(datetime.timezone.utc).date()
    first = datetime.date.fromisoformat(body["results"][0]["date"])
    assert body["count"] == 10
    assert len(body["results"]) == 7
    assert today <= first <= today + datetime.timedelta(days=3)
    assert all(datetime.date.fromisoformat(day["date"]).weekday() < 5 for day in body["results"])
    assert body["results"][0]["day_type"]["blocks"][0]["start"] == "8:40"


def test_demo_eighth_period_is_on_the_next_wednesday_or_friday(call: Any) -> None:
    blocks = call(1, "GET", "/api/blocks").json()["results"]

    dates = [datetime.date.fromisoformat(block["date"]) for block in blocks]
    today = datetime.datetime.now(datetime.timezone.utc).date()
    assert [block["block_letter"] for block in blocks] == ["A", "B", "A", "B"]
    assert all(date.weekday() in (2, 4) for date in dates)
    assert today <= dates[0] <= today + datetime.timedelta(days=7)


def test_signing_up_in_the_same_block_replaces_the_old_signup(fresh: Any) -> None:
    first = fresh(5, "POST", "/api/signups/user", json={"scheduled_activity": 8})
    second = fresh(5, "POST", "/api/signups/user", data={"block": 3, "activity": 2})

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["name"] == "Chess Club"
    mine = fresh(5, "GET", "/api/signups/user?date=" + block_date(fresh, 3)).json()
    assert [signup["scheduled_activity"] for signup in mine] == [9]
    assert fresh(3, "GET", "/api/signups/scheduled_activity/8").json()["signups"]["count"] == 0


def block_date(call: Any, block: int) -> str:
    return str(call(1, "GET", f"/api/blocks/{block}").json()["date"])


@pytest.mark.parametrize(
    ("scheduled", "message"),
    [
        (4, "This activity has been cancelled for this block."),
        (
            3,
            "You may not sign up for this restricted activity. You are not on the authorized list.",
        ),
        (2, FULL),
        (5, "You may not switch out of a sticky activity."),
    ],
)
def test_the_demo_refuses_the_student_every_way_ion_does(
    call: Any, scheduled: int, message: str
) -> None:
    response = call(1, "POST", "/api/signups/user", json={"scheduled_activity": scheduled})

    assert response.status_code == 400
    assert response.json() == {"details": [message]}


def test_an_authorized_student_may_join_a_restricted_activity(fresh: Any) -> None:
    response = fresh(4, "POST", "/api/signups/user", json={"scheduled_activity": 3})

    assert response.status_code == 201
    assert (
        fresh(4, "GET", "/api/blocks/1").json()["activities"]["3"]["restricted_for_user"] is False
    )


def test_an_eighth_admin_may_force_a_student_into_a_full_activity(fresh: Any) -> None:
    response = fresh(
        3, "POST", "/api/signups/user/5", json={"scheduled_activity": 2, "force": True}
    )

    assert response.status_code == 201
    roster = fresh(3, "GET", "/api/signups/scheduled_activity/2").json()
    assert roster["signups"]["count"] == 2
    assert {member["id"] for member in roster["signups"]["members"]} == {4, 5}


def test_a_locked_block_refuses_signups(tmp_path: Path, sign_in: Any) -> None:
    data = {
        "blocks": [{"id": 1, "date": "2026-12-02", "block_letter": "A", "locked": True}],
        "activities": [{"id": 1, "name": "Robotics Club"}],
        "scheduled_activities": [{"id": 1, "block": 1, "activity": 1, "capacity": 5}],
    }
    path = tmp_path / "data.json"
    path.write_text(json.dumps(data))
    with IonSandbox(args=["--data", str(path)]) as sandbox:
        token = sign_in(sandbox, 1, "read write")["access_token"]
        response = requests.post(
            f"{sandbox.url}/api/signups/user",
            json={"scheduled_activity": 1},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )

    assert response.status_code == 400
    assert response.json() == {"details": ["This block has been locked."]}


def test_favorites_toggle(call: Any) -> None:
    before = [a["id"] for a in call(2, "GET", "/api/signups/user/favorites").json()]
    added = call(2, "POST", "/api/signups/user/favorites", json={"activity": 5})
    during = [a["id"] for a in call(2, "GET", "/api/signups/user/favorites").json()]
    call(2, "POST", "/api/signups/user/favorites", data={"activity": "5"})
    after = [a["id"] for a in call(2, "GET", "/api/signups/user/favorites").json()]

    assert added.status_code == 201
    assert (before, during, after) == ([], [5], [])


def test_a_student_sees_only_public_signups_staff_see_all(call: Any) -> None:
    as_student = call(1, "GET", "/api/signups/scheduled_activity/1").json()["signups"]
    as_teacher = call(2, "GET", "/api/signups/scheduled_activity/1").json()["signups"]

    assert (as_student["count"], as_student["viewable_count"]) == (1, 0)
    assert [m["username"] for m in as_teacher["members"]] == ["2029bkim"]
    assert call(1, "GET", "/api/signups/user/5").json() == []
    assert call(1, "GET", "/api/signups/user/4").json()[0]["user"] == 4


def test_faculty_announcements_are_hidden_from_students(call: Any) -> None:
    student = [a["id"] for a in call(1, "GET", "/api/announcements").json()["results"]]
    teacher = [a["id"] for a in call(2, "GET", "/api/announcements").json()["results"]]

    assert student == [1, 2]
    assert teacher == [1, 3, 2]
    assert call(1, "GET", "/api/announcements/3").status_code == 404


def test_announcement_admins_create_change_and_delete_announcements(call: Any) -> None:
    created = call(3, "POST", "/api/announcements", json={"title": "New", "content": "<p>x</p>"})
    number = created.json()["id"]
    changed = call(3, "PATCH", f"/api/announcements/{number}", json={"pinned": True})
    refused = call(2, "DELETE", f"/api/announcements/{number}")
    deleted = call(3, "DELETE", f"/api/announcements/{number}")

    assert created.status_code == 201
    assert changed.json()["pinned"] is True
    assert changed.json()["title"] == "New"
    assert refused.status_code == 403
    assert deleted.status_code == 204
    assert call(3, "GET", f"/api/announcements/{number}").status_code == 404


def test_an_announcement_needs_a_title_and_content(call: Any) -> None:
    response = call(3, "POST", "/api/announcements", json={"title": "Only a title"})

    assert response.status_code == 400
    assert response.json() == {"content": ["This field is required."]}


def test_a_sandbox_session_is_a_login_too(ion_sandbox: IonSandbox, browser: Any) -> None:
    browser.consent_page(1)

    blocks = browser.session.get(f"{ion_sandbox.url}/api/blocks", timeout=10)
    picture = browser.session.get(f"{ion_sandbox.url}/api/profile/1/picture", timeout=10)

    assert blocks.status_code == 200
    assert picture.headers["Content-Type"] == "image/jpeg"


def test_blocks_page_size_is_capped_at_200(call: Any) -> None:
    body = call(1, "GET", "/api/blocks?page_size=500").json()

    assert body["next"] is None
    assert len(body["results"]) == 4


def test_head_and_options_answer(call: Any) -> None:
    head = call(1, "HEAD", "/api/blocks")
    options = call(1, "OPTIONS", "/api/blocks").json()

    assert head.status_code == 200
    assert options["name"] == "Eighth Block List"
    assert "actions" not in options


def test_malformed_json_is_a_400(call: Any) -> None:
    response = call(
        1,
        "POST",
        "/api/signups/user",
        data="{",
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


def test_a_wrong_id_type_is_a_field_error(call: Any) -> None:
    response = call(1, "POST", "/api/signups/user", json={"scheduled_activity": "abc"})

    assert response.status_code == 400
    assert response.json() == {
        "scheduled_activity": ["Incorrect type. Expected pk value, received str."]
    }


def test_today_pins_the_sandbox_clock() -> None:
    with IonSandbox(args=["--today", "2027-03-01"]) as sandbox:
        body = requests.get(f"{sandbox.url}/api/schedule", timeout=10).json()

    assert body["results"][0]["date"] == "2027-03-01"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "the file must hold a JSON object"),
        ({"bogus": []}, "unknown keys bogus"),
        ({"blocks": [{"id": 1, "date": "someday", "block_letter": "A"}]}, "someday"),
        ({"activities": [{"id": 1}]}, "activity 1"),
        ({"activities": [{"id": 1, "name": "x", "colour": "red"}]}, "unknown keys colour"),
        (
            {"scheduled_activities": [{"id": 1, "block": 9, "activity": 1, "capacity": 1}]},
            "scheduled activity 1: no block 9",
        ),
        ({"signups": [{"id": 1, "user": 1, "scheduled_activity": 9}]}, "no scheduled activity 9"),
        ({"favorites": [{"user": 1, "activity": 9}]}, "favorite: no activity 9"),
        ({"days": ["monday"]}, "day: each entry must be a JSON object"),
    ],
)
def test_a_malformed_data_file_stops_the_sandbox_with_a_clear_error(
    tmp_path: Path, data: Any, message: str
) -> None:
    path = tmp_path / "data.json"
    path.write_text(json.dumps(data))

    with pytest.raises(IonSandboxError) as error:
        IonSandbox(args=["--data", str(path)]).start()

    assert message in str(error.value)


def test_a_bad_today_is_refused() -> None:
    with pytest.raises(IonSandboxError, match="not a YYYY-MM-DD date"):
        IonSandbox(args=["--today", "tomorrow"]).start()


def test_the_recorded_seed_is_a_valid_data_file() -> None:
    from ion_oauth.sandbox.api_data import IonData

    data = IonData.from_json(json.loads((FIXTURES / "api_seed.json").read_text()))

    assert [b.block_letter for b in data.blocks] == ["A", "B"]
    assert [a.name for a in data.activities if a.sticky] == ["Senior Seminar"]


def test_a_test_can_switch_the_emergency_on_and_off(demo: IonSandbox) -> None:
    def emerg() -> Any:
        return requests.get(f"{demo.url}/api/emerg", timeout=10).json()

    demo.set_emergency("<h3>Schools closed</h3><hr />Snow.")
    during = emerg()
    demo.clear_emergency()

    assert during == {"status": True, "message": "<h3>Schools closed</h3><hr />Snow."}
    assert emerg() == {"status": False, "message": ""}


@pytest.mark.parametrize("body", ['{"status": "yes"}', '{"colour": 1}', "[", '{"message": 3}'])
def test_a_malformed_emergency_is_refused(demo: IonSandbox, body: str) -> None:
    response = requests.post(
        f"{demo.url}/sandbox/emergency", data=body, headers=demo.control_headers(), timeout=10
    )

    assert response.status_code == 400
    assert requests.get(f"{demo.url}/api/emerg", timeout=10).json()["status"] is False


def test_the_emergency_control_needs_the_control_token(demo: IonSandbox) -> None:
    response = requests.post(f"{demo.url}/sandbox/emergency", json={"status": True}, timeout=10)

    assert response.status_code == 403
    assert requests.get(f"{demo.url}/api/emerg", timeout=10).json()["status"] is False


def test_reset_api_data_undoes_signups(fresh: Any) -> None:
    sandbox = fresh.sandbox
    fresh(1, "POST", "/api/signups/user", json={"scheduled_activity": 8})
    fresh(1, "POST", "/api/signups/user/favorites", json={"activity": 2})

    sandbox.reset_api_data()

    assert fresh(1, "GET", "/api/signups/scheduled_activity/8").json()["signups"]["count"] == 0
    assert [a["id"] for a in fresh(1, "GET", "/api/signups/user/favorites").json()] == [1]


def test_an_alum_is_refused_as_on_ion(tmp_path: Path, sign_in: Any) -> None:
    people = tmp_path / "people.json"
    people.write_text(
        json.dumps(
            [
                {
                    "id": 30,
                    "ion_username": "2020old",
                    "first_name": "O",
                    "last_name": "Ld",
                    "user_type": "alum",
                }
            ]
        )
    )
    with IonSandbox(args=["--people", str(people)]) as sandbox:
        token = sign_in(sandbox, 30)["access_token"]
        response = requests.get(
            f"{sandbox.url}/api/blocks", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )

    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}


def test_a_method_a_view_lacks_needs_a_login_first(call: Any) -> None:
    anonymous = call(None, "DELETE", "/api/blocks")
    logged_in = call(1, "DELETE", "/api/blocks")
    open_view = call(None, "DELETE", "/api/emerg")

    assert (anonymous.status_code, logged_in.status_code, open_view.status_code) == (403, 405, 405)
    assert logged_in.json() == {"detail": 'Method "DELETE" not allowed.'}


def test_content_negotiation(call: Any) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    html = call(1, "GET", "/api/blocks", headers={"Accept": browser})
    json_first = call(
        1, "GET", "/api/blocks", headers={"Accept": "application/json;q=bad, text/html;q=0.5"}
    )
    api = call(1, "GET", "/api/bus?format=api")
    refused = call(1, "GET", "/api/bus", headers={"Accept": "application/xml"})

    assert html.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<title>Ion API - /api/blocks</title>" in html.text
    assert json_first.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<h1>Route List</h1>" in api.text
    assert refused.status_code == 406


def test_the_picture_refuses_what_ion_refuses(call: Any) -> None:
    assert call(1, "GET", "/api/profile/1/picture/alumni").text == "detail"
    assert (
        call(1, "GET", "/api/profile/1/picture", headers={"Accept": "application/json"}).status_code
        == 406
    )
    assert call(1, "POST", "/api/profile/1/picture").status_code == 405


def test_search_by_field(call: Any) -> None:
    def usernames(query: str) -> list[str]:
        return [p["username"] for p in call(1, "GET", f"/api/search/{query}").json()["results"]]

    assert usernames("first:Jo") == ["2027jdoe"]
    assert usernames("grade:11") == ["2028alee"]
    assert usernames("Mary Smith") == ["msmith"]
    assert usernames("last:Smi type:student") == []


def test_last_page(call: Any) -> None:
    body = call(None, "GET", "/api/schedule?page=last&page_size=3").json()

    assert body["next"] is None
    assert body["previous"].endswith("page=3&page_size=3")
    assert len(body["results"]) == 1


def test_a_json_list_is_not_a_signup(call: Any) -> None:
    response = call(1, "POST", "/api/signups/user", json=[1])

    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]
    }


def test_put_replaces_an_announcement_and_needs_every_field(fresh: Any) -> None:
    incomplete = fresh(3, "PUT", "/api/announcements/2", json={"title": "Only"})
    whole = fresh(
        3, "PUT", "/api/announcements/2", json={"title": "T", "content": "C", "author": "A"}
    )

    assert incomplete.status_code == 400
    assert (whole.json()["title"], whole.json()["author"]) == ("T", "A")
    assert (
        fresh(1, "POST", "/api/announcements", json={"title": "x", "content": "y"}).status_code
        == 403
    )


def test_signing_up_someone_who_does_not_exist_is_not_found(call: Any) -> None:
    response = call(3, "POST", "/api/signups/user/999", json={"scheduled_activity": 1})

    assert response.status_code == 404
    assert response.json() == {"details": ["Object does not exist (in database)."]}


@pytest.mark.parametrize(
    ("today", "eighth"),
    [("2026-12-07", "2026-12-09"), ("2026-12-04", "2026-12-04"), ("2026-12-05", "2026-12-09")],
)
def test_demo_eighth_day_follows_the_clock(today: str, eighth: str) -> None:
    from ion_oauth.sandbox.api_data import demo_data

    data = demo_data(datetime.date.fromisoformat(today))

    assert data.blocks[0].date.isoformat() == eighth
    start = datetime.date.fromisoformat(today)
    coming = [day for day in data.days if day.date >= start]
    assert len(coming) == 10
    # The last week is there too, for sites whose "today" is behind UTC.
    assert data.days[0].date < start - datetime.timedelta(days=4)
    mondays = [day for day in data.days if day.date.weekday() == 0]
    assert all(day.name == "Anchor Day" for day in mondays)


def test_a_browser_following_a_picture_link_gets_the_picture(call: Any) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

    response = call(1, "GET", "/api/profile/1/picture", headers={"Accept": browser})

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/jpeg"
