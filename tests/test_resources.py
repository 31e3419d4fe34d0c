"""Reading Ion's recorded answers into ``ion_oauth.resources``, and every way a field can be
wrong: absent, of another JSON type, or a date, time or timestamp Ion would not send."""

from __future__ import annotations

import copy
import dataclasses
import datetime
import json
from pathlib import Path
from typing import Any

import pytest

from ion_oauth.exceptions import IonResponseError
from ion_oauth.resources import (
    Activity,
    ActivitySummary,
    Announcement,
    Block,
    BlockDetail,
    BusRoute,
    Day,
    Emergency,
    Profile,
    Roster,
    SearchResult,
    Signup,
)
from ion_oauth.resources.reading import Resource

RECORDINGS = Path(__file__).parent / "fixtures" / "ion" / "api"


def recorded(name: str, item: int | None = None) -> Any:
    body = json.loads((RECORDINGS / f"{name}.json").read_text())["body"]
    if isinstance(body, dict) and "results" in body:
        body = body["results"]
    return copy.deepcopy(body if item is None else body[item])


#: One recorded answer per resource read from a whole JSON document.
EXAMPLES: list[tuple[type[Resource], str, int | None]] = [
    (Profile, "get_profile_student_read", None),
    (SearchResult, "get_search_doe", 0),
    (Day, "get_schedule_today", None),
    (Block, "get_blocks", 0),
    (BlockDetail, "get_block_A_student", None),
    (ActivitySummary, "get_activities", 0),
    (Activity, "get_activity_robotics", None),
    (Signup, "get_signups_user_after", 0),
    (Roster, "get_roster_robotics_A_teacher", None),
    (Announcement, "get_announcements_student", 0),
    (BusRoute, "get_bus", 0),
    (Emergency, "get_emerg_student", None),
]


#: The fields Ion may leave out (or send as null).
OPTIONAL = {
    "nickname",
    "title",
    "student_id",
    "graduation_year",
    "grade",
    "locked",
    "user",
    "message",
}


def required_keys(data: Any, path: str = "") -> list[str]:
    """Every dotted key in ``data`` (objects only) whose value is not null; not the ids
    Ion keys some lists by (removing one is a shorter list), but what is inside them."""
    keys = []
    for key, value in data.items():
        if value is None:
            continue
        if not key.isdigit():
            keys.append(path + key)
        if isinstance(value, dict):
            keys += required_keys(value, f"{path}{key}.")
    return keys


def without(data: dict[str, Any], path: str) -> dict[str, Any]:
    *parents, key = path.split(".")
    inner = data
    for parent in parents:
        inner = inner[parent]
    del inner[key]
    return data


def with_value(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    *parents, key = path.split(".")
    inner = data
    for parent in parents:
        inner = inner[parent]
    inner[key] = value
    return data


def outcome(resource: type[Resource], data: Any) -> Resource | IonResponseError:
    """The resource built from ``data``, or the error building it raised."""
    try:
        return resource.from_json(data)
    except IonResponseError as error:
        return error


@pytest.mark.parametrize(("resource", "name", "item"), EXAMPLES)
def test_every_recorded_answer_reads_and_keeps_its_json(
    resource: type[Resource], name: str, item: int | None
) -> None:
    data = recorded(name, item)

    built = resource.from_json(data)

    assert isinstance(built, resource)
    if "raw" in {f.name for f in dataclasses.fields(built)}:  # type: ignore[arg-type]
        assert built.raw == data  # type: ignore[attr-defined]


@pytest.mark.parametrize(("resource", "name", "item"), EXAMPLES)
def test_each_key_a_resource_reads_is_required_and_named_when_absent(
    resource: type[Resource], name: str, item: int | None
) -> None:
    """Deleting any key the resource reads fails with the key's name; keys it does not
    read (``url``...) can go."""
    data = recorded(name, item)
    built = resource.from_json(data)
    failures = 0
    for path in required_keys(data):
        changed = outcome(resource, without(recorded(name, item), path))
        if isinstance(changed, IonResponseError):
            failures += 1
            assert f"no '{path.rsplit('.', 1)[-1]}'" in str(changed)
            assert changed.code == "malformed_response"
        else:
            # Only a key the resource does not read, or an optional one, may go.
            assert changed == built or path.rsplit(".", 1)[-1] in OPTIONAL, path
    assert failures > 0


@pytest.mark.parametrize(("resource", "name", "item"), EXAMPLES)
def test_a_value_of_another_json_type_is_named(
    resource: type[Resource], name: str, item: int | None
) -> None:
    data = recorded(name, item)
    built = resource.from_json(data)
    for path in required_keys(data):
        value = data
        for part in path.split("."):
            value = value[part]
        # A string where Ion sends anything else, a list where it sends a string.
        wrong: Any = [value] if isinstance(value, str) else "x"
        changed = outcome(resource, with_value(recorded(name, item), path, wrong))
        if isinstance(changed, IonResponseError):
            assert f"'{path.rsplit('.', 1)[-1]}' is" in str(changed)
        else:
            assert changed == built, f"{path} was read as {wrong!r}"


def test_a_missing_key_deep_inside_says_where() -> None:
    data = recorded("get_block_A_student")
    first = next(iter(data["activities"]))
    del data["activities"][first]["roster"]["count"]

    with pytest.raises(IonResponseError) as error:
        BlockDetail.from_json(data)

    assert str(error.value) == (
        f"Ion sent a block.activities['{first}'].roster this site could not read (no 'count')."
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": True}, "Ion sent an announcement this site could not read ('id' is True)."),
        ({"id": "1"}, "Ion sent an announcement this site could not read ('id' is '1')."),
        ({"title": 7}, "Ion sent an announcement this site could not read ('title' is 7)."),
        (
            {"added": "yesterday"},
            "Ion sent an announcement this site could not read "
            "('added' is not a timestamp: 'yesterday').",
        ),
        (
            {"updated": "2026-12-02T02:22:28"},
            "Ion sent an announcement this site could not read "
            "('updated' has no time zone: '2026-12-02T02:22:28').",
        ),
        (
            {"groups": [1, "Faculty"]},
            "Ion sent an announcement this site could not read ('groups' is not a list of ids).",
        ),
        (
            {"groups": {"1": 1}},
            "Ion sent an announcement this site could not read ('groups' is {'1': 1}).",
        ),
    ],
)
def test_a_wrong_value_is_an_error_that_quotes_it(changes: dict[str, Any], message: str) -> None:
    data = {**recorded("get_announcements_student", 0), **changes}

    with pytest.raises(IonResponseError) as error:
        Announcement.from_json(data)

    assert str(error.value) == message
    assert (error.value.code, error.value.stage) == ("malformed_response", "user_info")


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ({"date": "2026-02-30"}, "('date' is not a date: '2026-02-30')"),
        ({"date": 20261201}, "('date' is 20261201)"),
        ({"blocks": [{"order": 1, "name": "P", "start": "8:4x", "end": "9:00"}]}, "not a time"),
        ({"blocks": [{"order": 1, "name": "P", "start": "25:00", "end": "9:00"}]}, "not a time"),
        ({"blocks": [{"order": 1, "name": "P", "start": "8", "end": "9:00"}]}, "not a time"),
    ],
)
def test_a_bad_date_or_time_is_an_error(day: dict[str, Any], message: str) -> None:
    data = recorded("get_schedule_today")
    if "blocks" in day:
        data["day_type"]["blocks"] = day["blocks"]
    else:
        data.update(day)

    with pytest.raises(IonResponseError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Day.from_json(data)


def test_a_bad_time_names_the_period_it_is_in() -> None:
    data = recorded("get_schedule_today")
    data["day_type"]["blocks"][1]["end"] = "noon"

    with pytest.raises(IonResponseError) as error:
        Day.from_json(data)

    assert str(error.value) == (
        "Ion sent a schedule day.day_type.blocks[1] this site could not read "
        "('end' is not a time: 'noon')."
    )


@pytest.mark.parametrize("document", [None, [], "profile", 7])
def test_a_document_that_is_not_an_object_is_an_error(document: Any) -> None:
    with pytest.raises(IonResponseError, match="expected a JSON object, got"):
        Profile.from_json(document)


def test_times_dates_and_periods_are_read_and_periods_sorted() -> None:
    data = recorded("get_schedule_today")
    data["day_type"]["blocks"].reverse()

    day = Day.from_json(data)

    assert [p.order for p in day.periods] == sorted(p.order for p in day.periods)
    assert isinstance(day.date, datetime.date)
    assert all(isinstance(p.start, datetime.time) for p in day.periods)


def test_a_null_or_absent_optional_field_is_none() -> None:
    profile = recorded("get_profile_student_read")
    profile["nickname"] = None
    del profile["title"]
    block = recorded("get_blocks", 0)
    block.pop("locked", None)

    assert (Profile.from_json(profile).nickname, Profile.from_json(profile).title) == (None, None)
    assert Block.from_json(block).locked is None


def test_ion_keys_activities_by_id_and_a_list_is_refused() -> None:
    data = recorded("get_activity_robotics")
    activity = Activity.from_json(data)
    data["scheduled_on"] = list(data["scheduled_on"].values())

    assert [s.block.letter for s in activity.scheduled_on] == ["A", "B"]
    with pytest.raises(IonResponseError, match=r"\('scheduled_on' is \["):
        Activity.from_json(data)


def test_raw_is_left_out_of_comparison_and_repr() -> None:
    data = recorded("get_profile_student_read")
    extended = {**data, "added_by_ion_later": 1}

    assert Profile.from_json(data) == Profile.from_json(extended)
    assert Profile.from_json(extended).raw["added_by_ion_later"] == 1
    assert "added_by_ion_later" not in repr(Profile.from_json(extended))
