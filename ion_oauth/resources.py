"""What Ion's API answers, as typed objects: dates as ``date``, times as ``time``,
timestamps as aware ``datetime``.

They are frozen dataclasses rather than TypedDicts because Ion's values need converting:
``"8:40"`` is a ``time``, ``"2026-12-01"`` a ``date``, ``"…Z"`` an aware ``datetime``, and
a TypedDict can only describe the JSON, not turn it into those. Each keeps the JSON it was
built from in ``raw`` (left out of comparisons and ``repr``), so a field Ion adds later is
still at hand.

Building one from JSON that lacks a field or has the wrong type raises
:class:`~ion_oauth.exceptions.IonResponseError`, never a ``KeyError`` deep in a view.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ion_oauth.exceptions import IonResponseError

T = TypeVar("T")

__all__ = [
    "Activity",
    "ActivitySummary",
    "Announcement",
    "Block",
    "BlockActivity",
    "BlockDetail",
    "BusRoute",
    "Day",
    "Emergency",
    "Grade",
    "Member",
    "Period",
    "Picture",
    "Profile",
    "Roster",
    "ScheduledOn",
    "SearchResult",
    "Signup",
]


class _Reader:
    """Typed access to one JSON object; a wrong or missing value is an IonResponseError."""

    def __init__(self, data: Any, what: str) -> None:
        if not isinstance(data, Mapping):
            raise malformed(what, f"expected a JSON object, got {type(data).__name__}")
        self.data = data
        self.what = what

    def get(self, key: str, kind: type[T] | tuple[type, ...]) -> T:
        if key not in self.data:
            raise malformed(self.what, f"no {key!r}")
        value = self.data[key]
        # bool is an int to Python, but not an id to Ion.
        wrong_bool = isinstance(value, bool) and bool not in (
            kind if isinstance(kind, tuple) else (kind,)
        )
        if not isinstance(value, kind) or wrong_bool:
            raise malformed(self.what, f"{key!r} is {value!r}")
        return value  # type: ignore[return-value]

    def optional(self, key: str, kind: type[T] | tuple[type, ...]) -> T | None:
        if self.data.get(key) is None:
            return None
        return self.get(key, kind)

    def text(self, key: str) -> str:
        return self.get(key, str)

    def integer(self, key: str) -> int:
        return self.get(key, int)

    def flag(self, key: str) -> bool:
        return self.get(key, bool)

    def date(self, key: str) -> datetime.date:
        value = self.text(key)
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise malformed(self.what, f"{key!r} is not a date: {value!r}") from None

    def time(self, key: str) -> datetime.time:
        """Ion's ``"8:40"``: 24-hour, the hour not zero-padded."""
        value = self.text(key)
        hours, _, minutes = value.partition(":")
        try:
            return datetime.time(int(hours), int(minutes))
        except ValueError:
            raise malformed(self.what, f"{key!r} is not a time: {value!r}") from None

    def moment(self, key: str) -> datetime.datetime:
        """Ion's ``"2026-12-02T02:22:28.402593Z"``, as an aware datetime."""
        value = self.text(key)
        try:
            moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise malformed(self.what, f"{key!r} is not a timestamp: {value!r}") from None
        if moment.tzinfo is None:
            raise malformed(self.what, f"{key!r} has no time zone: {value!r}")
        return moment

    def child(self, key: str) -> _Reader:
        return _Reader(self.get(key, dict), f"{self.what}.{key}")

    def strings(self, key: str) -> tuple[str, ...]:
        values = self.get(key, list)
        if not all(isinstance(v, str) for v in values):
            raise malformed(self.what, f"{key!r} is not a list of strings")
        return tuple(values)

    def integers(self, key: str) -> tuple[int, ...]:
        values = self.get(key, list)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise malformed(self.what, f"{key!r} is not a list of ids")
        return tuple(values)


def malformed(what: str, problem: str) -> IonResponseError:
    return IonResponseError(
        None,
        f"Ion sent a {what} this site could not read ({problem}).",
        code="malformed_response",
        stage="user_info",
    )


def many(build: Callable[[Any], T], items: Any, what: str) -> list[T]:
    """Each item of a JSON list, built with ``build``."""
    if not isinstance(items, list):
        raise malformed(what, f"expected a JSON list, got {type(items).__name__}")
    return [build(item) for item in items]


@dataclass(frozen=True)
class Grade:
    """``{"number": 12, "name": "senior"}``; staff are ``13``, ``"graduate"``."""

    number: int
    name: str

    @classmethod
    def from_json(cls, data: Any) -> Grade:
        r = _Reader(data, "grade")
        return cls(number=r.integer("number"), name=r.text("name"))


@dataclass(frozen=True)
class Profile:
    """``/api/profile[/<id or username>]``. ``student_id`` is None when Ion hides it (it
    shows it only to teachers and eighth-period admins)."""

    id: int
    username: str
    full_name: str
    display_name: str
    short_name: str
    first_name: str
    last_name: str
    nickname: str | None
    title: str | None
    sex: str
    email: str
    student_id: int | None
    grade: Grade
    graduation_year: int | None
    user_type: str
    picture_url: str
    is_eighth_admin: bool
    is_teacher: bool
    is_student: bool
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> Profile:
        r = _Reader(data, "profile")
        return cls(
            id=r.integer("id"),
            username=r.text("ion_username"),
            full_name=r.text("full_name"),
            display_name=r.text("display_name"),
            short_name=r.text("short_name"),
            first_name=r.text("first_name"),
            last_name=r.text("last_name"),
            nickname=r.optional("nickname", str),
            title=r.optional("title", str),
            sex=r.text("sex"),
            email=r.text("tj_email"),
            student_id=r.optional("student_id", int),
            grade=Grade.from_json(r.get("grade", dict)),
            graduation_year=r.optional("graduation_year", int),
            user_type=r.text("user_type"),
            picture_url=r.text("picture"),
            is_eighth_admin=r.flag("is_eighth_admin"),
            is_teacher=r.flag("is_teacher"),
            is_student=r.flag("is_student"),
            raw=dict(data),
        )


#: The first bytes of each image type, for :class:`Picture`.
_MAGIC = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}


@dataclass(frozen=True)
class Picture:
    """A profile picture. Ion labels every picture ``image/jpeg``, but its default picture is
    a PNG: ``content_type`` is the real type, read from the bytes; ``declared_type`` is
    what Ion said."""

    content: bytes = field(repr=False)
    declared_type: str

    @property
    def content_type(self) -> str:
        for magic, kind in _MAGIC.items():
            if self.content.startswith(magic):
                return kind
        return self.declared_type


@dataclass(frozen=True)
class SearchResult:
    """One person found by ``/api/search``; ``grade`` only for students."""

    id: int
    username: str
    full_name: str
    first_name: str
    last_name: str
    user_type: str
    grade: Grade | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> SearchResult:
        r = _Reader(data, "search result")
        grade = r.optional("grade", dict)
        return cls(
            id=r.integer("id"),
            username=r.text("username"),
            full_name=r.text("full_name"),
            first_name=r.text("first_name"),
            last_name=r.text("last_name"),
            user_type=r.text("user_type"),
            grade=Grade.from_json(grade) if grade is not None else None,
            raw=dict(data),
        )


@dataclass(frozen=True)
class Period:
    """One period of a bell schedule (Ion calls them blocks): ``start``/``end`` are times."""

    order: int
    name: str
    start: datetime.time
    end: datetime.time

    @classmethod
    def from_json(cls, data: Any) -> Period:
        r = _Reader(data, "schedule period")
        return cls(r.integer("order"), r.text("name"), r.time("start"), r.time("end"))


@dataclass(frozen=True)
class Day:
    """One day's bell schedule. A day without school has no periods; Ion names it
    ``"NO SCHOOL<br>"`` (``name`` keeps Ion's text; ``is_school_day`` is the question)."""

    date: datetime.date
    name: str
    special: bool
    periods: tuple[Period, ...]
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_school_day(self) -> bool:
        return bool(self.periods)

    @classmethod
    def from_json(cls, data: Any) -> Day:
        r = _Reader(data, "schedule day")
        kind = r.child("day_type")
        return cls(
            date=r.date("date"),
            name=kind.text("name"),
            special=kind.flag("special"),
            periods=tuple(
                sorted(
                    many(Period.from_json, kind.get("blocks", list), "schedule"),
                    key=lambda p: p.order,
                )
            ),
            raw=dict(data),
        )


@dataclass(frozen=True)
class Block:
    """An eighth-period block: ``letter`` is ``"A"`` or ``"B"``."""

    id: int
    date: datetime.date
    letter: str
    locked: bool | None = None

    @classmethod
    def from_json(cls, data: Any) -> Block:
        r = _Reader(data, "block")
        locked = r.optional("locked", bool)
        return cls(r.integer("id"), r.date("date"), r.text("block_letter"), locked)


@dataclass(frozen=True)
class BlockActivity:
    """An activity as scheduled in one block, as the caller sees it.

    ``restricted_for_user``: the caller may not join it. ``roster_count``/``capacity``:
    how many joined and how many may. ``title`` is the block's own title ("AMC Practice").
    """

    id: int
    scheduled_activity_id: int
    name: str
    name_with_flags: str
    description: str
    title: str
    comments: str
    cancelled: bool
    favorited: bool
    restricted: bool
    restricted_for_user: bool
    sticky: bool
    both_blocks: bool
    one_a_day: bool
    special: bool
    administrative: bool
    presign: bool
    roster_count: int
    capacity: int
    rooms: tuple[str, ...]
    sponsors: tuple[str, ...]
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_full(self) -> bool:
        return self.roster_count >= self.capacity

    @classmethod
    def from_json(cls, data: Any) -> BlockActivity:
        r = _Reader(data, "block activity")
        roster = r.child("roster")
        return cls(
            id=r.integer("id"),
            scheduled_activity_id=r.child("scheduled_activity").integer("id"),
            name=r.text("name"),
            name_with_flags=r.text("name_with_flags_for_user"),
            description=r.text("description"),
            title=r.text("title"),
            comments=r.text("comments"),
            cancelled=r.flag("cancelled"),
            favorited=r.flag("favorited"),
            restricted=r.flag("restricted"),
            restricted_for_user=r.flag("restricted_for_user"),
            sticky=r.flag("sticky"),
            both_blocks=r.flag("both_blocks"),
            one_a_day=r.flag("one_a_day"),
            special=r.flag("special"),
            administrative=r.flag("administrative"),
            presign=r.flag("presign"),
            roster_count=roster.integer("count"),
            capacity=roster.integer("capacity"),
            rooms=r.strings("rooms"),
            sponsors=r.strings("sponsors"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class BlockDetail:
    """``/api/blocks/<id>``: the block and its activities in Ion's order."""

    id: int
    date: datetime.date
    letter: str
    comments: str
    activities: tuple[BlockActivity, ...]

    @property
    def block(self) -> Block:
        return Block(self.id, self.date, self.letter)

    @classmethod
    def from_json(cls, data: Any) -> BlockDetail:
        r = _Reader(data, "block")
        activities = r.get("activities", dict)
        return cls(
            id=r.integer("id"),
            date=r.date("date"),
            letter=r.text("block_letter"),
            comments=r.text("comments"),
            activities=tuple(BlockActivity.from_json(a) for a in activities.values()),
        )


@dataclass(frozen=True)
class ActivitySummary:
    """An activity in a list (``/api/activities``, favorites): id and name."""

    id: int
    name: str

    @classmethod
    def from_json(cls, data: Any) -> ActivitySummary:
        r = _Reader(data, "activity")
        return cls(r.integer("id"), r.text("name"))


@dataclass(frozen=True)
class ScheduledOn:
    """A block an activity is scheduled in, and the scheduled activity's id (its roster)."""

    block: Block
    scheduled_activity_id: int


@dataclass(frozen=True)
class Activity:
    """``/api/activities/<id>``; also what a signup and a favorite toggle answer."""

    id: int
    name: str
    description: str
    administrative: bool
    restricted: bool
    presign: bool
    one_a_day: bool
    both_blocks: bool
    sticky: bool
    special: bool
    scheduled_on: tuple[ScheduledOn, ...]
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> Activity:
        r = _Reader(data, "activity")
        scheduled = []
        for item in r.get("scheduled_on", dict).values():
            s = _Reader(item, "activity.scheduled_on")
            block = Block(s.integer("id"), s.date("date"), s.text("block_letter"))
            scheduled.append(ScheduledOn(block, s.child("roster").integer("id")))
        return cls(
            id=r.integer("id"),
            name=r.text("name"),
            description=r.text("description"),
            administrative=r.flag("administrative"),
            restricted=r.flag("restricted"),
            presign=r.flag("presign"),
            one_a_day=r.flag("one_a_day"),
            both_blocks=r.flag("both_blocks"),
            sticky=r.flag("sticky"),
            special=r.flag("special"),
            scheduled_on=tuple(scheduled),
            raw=dict(data),
        )


@dataclass(frozen=True)
class Signup:
    """One eighth-period signup; ``activity_title`` carries Ion's flags (``" (S)"``...)."""

    id: int
    block: Block
    activity_id: int
    activity_title: str
    scheduled_activity_id: int
    user_id: int

    @classmethod
    def from_json(cls, data: Any) -> Signup:
        r = _Reader(data, "signup")
        block = r.child("block")
        activity = r.child("activity")
        return cls(
            id=r.integer("id"),
            block=Block(block.integer("id"), block.date("date"), block.text("block_letter")),
            activity_id=activity.integer("id"),
            activity_title=activity.text("title"),
            scheduled_activity_id=r.integer("scheduled_activity"),
            user_id=r.integer("user"),
        )


@dataclass(frozen=True)
class Member:
    """A person on a roster."""

    id: int
    username: str
    full_name: str


@dataclass(frozen=True)
class Roster:
    """``/api/signups/scheduled_activity/<id>``. Students see only themselves and those who
    show their signups: ``count`` is everyone, ``members`` whom the caller may see."""

    id: int
    name: str
    block_id: int
    date: datetime.date
    activity_id: int
    members: tuple[Member, ...]
    count: int
    capacity: int

    @classmethod
    def from_json(cls, data: Any) -> Roster:
        r = _Reader(data, "roster")
        signups = r.child("signups")
        members = []
        for item in signups.get("members", list):
            m = _Reader(item, "roster member")
            members.append(Member(m.integer("id"), m.text("username"), m.text("full_name")))
        block = r.child("block")
        return cls(
            id=r.integer("id"),
            name=r.text("name"),
            block_id=block.integer("id"),
            date=block.date("date"),
            activity_id=r.child("activity").integer("id"),
            members=tuple(members),
            count=signups.integer("count"),
            capacity=r.integer("capacity"),
        )


@dataclass(frozen=True)
class Announcement:
    """An announcement; ``content`` is HTML as Ion stores it (escape or sanitize it)."""

    id: int
    title: str
    content: str
    author: str
    user_id: int | None
    added: datetime.datetime
    updated: datetime.datetime
    groups: tuple[int, ...]
    pinned: bool

    @classmethod
    def from_json(cls, data: Any) -> Announcement:
        r = _Reader(data, "announcement")
        return cls(
            id=r.integer("id"),
            title=r.text("title"),
            content=r.text("content"),
            author=r.text("author"),
            user_id=r.optional("user", int),
            added=r.moment("added"),
            updated=r.moment("updated"),
            groups=r.integers("groups"),
            pinned=r.flag("pinned"),
        )


@dataclass(frozen=True)
class BusRoute:
    """A bus route; ``space`` and ``bus_number`` are ``""`` when unknown. ``status`` is
    Ion's letter: ``"a"`` arrived, ``"d"`` delayed, ``"o"`` on time."""

    id: int
    route_name: str
    space: str
    bus_number: str
    status: str

    @property
    def arrived(self) -> bool:
        return self.status == "a"

    @property
    def delayed(self) -> bool:
        return self.status == "d"

    @classmethod
    def from_json(cls, data: Any) -> BusRoute:
        r = _Reader(data, "bus route")
        return cls(
            r.integer("id"),
            r.text("route_name"),
            r.text("space"),
            r.text("bus_number"),
            r.text("status"),
        )


@dataclass(frozen=True)
class Emergency:
    """FCPS's emergency status: ``message`` is HTML when ``status``; None when Ion could not
    reach FCPS."""

    status: bool
    message: str | None

    @classmethod
    def from_json(cls, data: Any) -> Emergency:
        r = _Reader(data, "emergency status")
        return cls(r.flag("status"), r.optional("message", str))
