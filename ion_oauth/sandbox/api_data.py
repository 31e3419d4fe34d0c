"""What the sandbox's REST API serves besides people: the bell schedule, eighth period,
announcements, bus routes and the emergency status.

The data lives in memory, behind one lock, and starts afresh on every start: from the
demo data (always "current": dated from the sandbox's clock) or from a ``--data`` file.
Signups and favorites made through the API change it until the sandbox stops.

A ``--data`` file is one JSON object; every key is optional (a missing one is empty, or
``emergency`` off)::

    {
      "days": [{"date": "2026-12-01", "name": "Red Day", "special": false,
                "blocks": [{"name": "Period 5", "start": "8:40", "end": "10:15"}]}],
      "blocks": [{"id": 1, "date": "2026-12-01", "block_letter": "A",
                  "locked": false, "comments": ""}],
      "activities": [{"id": 1, "name": "Robotics Club", "description": "",
                      "restricted": false, "authorized": [], "sticky": false,
                      "administrative": false, "presign": false, "one_a_day": false,
                      "both_blocks": false, "special": false}],
      "scheduled_activities": [{"id": 1, "block": 1, "activity": 1, "capacity": 28,
                                "cancelled": false, "title": "", "comments": "",
                                "rooms": ["114"], "sponsors": ["Smith"]}],
      "signups": [{"id": 1, "user": 4, "scheduled_activity": 1}],
      "favorites": [{"user": 1, "activity": 1}],
      "public_signups": [4],
      "groups": [{"id": 2, "name": "Faculty", "members": [2, 3]}],
      "announcement_admins": [3],
      "announcements": [{"id": 1, "title": "", "content": "<p>...</p>", "author": "",
                         "user": 3, "added": "2026-12-02T02:22:28.402593Z",
                         "updated": "2026-12-02T02:22:28.402593Z", "groups": [],
                         "pinned": false}],
      "bus_routes": [{"id": 1, "route_name": "JT-101", "space": "A3",
                      "bus_number": "1042", "status": "a"}],
      "emergency": {"status": false, "message": ""}
    }

``authorized`` lists the people who may join a restricted activity; ``public_signups``
the people whose signups other students may see; ``groups`` decide who sees an
announcement restricted to them; ``announcement_admins`` see every announcement.
People themselves come from the sandbox's people (``--people``).
"""

from __future__ import annotations

import datetime
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

#: ``ION_SANDBOX_TODAY`` (``--today``): the sandbox's date, for tests that need a fixed one.
TODAY_VARIABLE = "ION_SANDBOX_TODAY"


def today() -> datetime.date:
    """The sandbox's date: ``ION_SANDBOX_TODAY`` if set, else today in UTC (as Ion uses)."""
    fixed = os.environ.get(TODAY_VARIABLE)
    if fixed:
        return datetime.date.fromisoformat(fixed)
    return datetime.datetime.now(datetime.timezone.utc).date()


@dataclass
class Period:
    name: str
    start: str
    end: str


@dataclass
class Day:
    date: datetime.date
    name: str
    special: bool = False
    blocks: list[Period] = field(default_factory=list)


@dataclass
class Block:
    id: int
    date: datetime.date
    block_letter: str
    locked: bool = False
    comments: str = ""


@dataclass
class Activity:
    id: int
    name: str
    description: str = ""
    restricted: bool = False
    authorized: list[int] = field(default_factory=list)
    sticky: bool = False
    administrative: bool = False
    presign: bool = False
    one_a_day: bool = False
    both_blocks: bool = False
    special: bool = False


@dataclass
class ScheduledActivity:
    id: int
    block: int
    activity: int
    capacity: int
    cancelled: bool = False
    title: str = ""
    comments: str = ""
    rooms: list[str] = field(default_factory=list)
    sponsors: list[str] = field(default_factory=list)


@dataclass
class Signup:
    id: int
    user: int
    scheduled_activity: int


@dataclass
class Favorite:
    user: int
    activity: int


@dataclass
class Group:
    id: int
    name: str
    members: list[int] = field(default_factory=list)


@dataclass
class Announcement:
    id: int
    title: str
    content: str
    author: str
    user: int
    added: str
    updated: str
    groups: list[int] = field(default_factory=list)
    pinned: bool = False


@dataclass
class BusRoute:
    id: int
    route_name: str
    space: str = ""
    bus_number: str = ""
    status: str = "o"


@dataclass
class Emergency:
    status: bool = False
    message: str | None = ""


T = TypeVar("T")


def _date(value: Any) -> datetime.date:
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(value)


def _build(cls: Callable[..., T], data: Any, what: str) -> T:
    """One record of a data file, with a clear error naming it when it is malformed."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{what}: each entry must be a JSON object")
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{what} {data.get('id', '')}: unknown keys {', '.join(unknown)}")
    try:
        return cls(**data)
    except TypeError as error:
        raise ValueError(f"{what} {data.get('id', '')}: {error}") from error


@dataclass
class IonData:
    """Everything the API serves besides people."""

    days: list[Day] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    scheduled_activities: list[ScheduledActivity] = field(default_factory=list)
    signups: list[Signup] = field(default_factory=list)
    favorites: list[Favorite] = field(default_factory=list)
    public_signups: list[int] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    announcement_admins: list[int] = field(default_factory=list)
    announcements: list[Announcement] = field(default_factory=list)
    bus_routes: list[BusRoute] = field(default_factory=list)
    emergency: Emergency = field(default_factory=Emergency)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> IonData:
        """Check a ``--data`` document and build the data; ValueError says what is wrong."""
        if not isinstance(data, Mapping):
            raise ValueError("--data: the file must hold a JSON object")
        known = {f.name for f in fields(cls)} - {"lock"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"--data: unknown keys {', '.join(unknown)}")
        try:
            days = []
            for day in data.get("days", []):
                if not isinstance(day, Mapping):
                    raise ValueError("day: each entry must be a JSON object")
                fields_ = dict(day)
                periods = [_build(Period, p, "day period") for p in fields_.pop("blocks", [])]
                built = _build(Day, fields_, "day")
                built.date = _date(built.date)
                built.blocks = periods
                days.append(built)
            blocks = [_build(Block, b, "block") for b in data.get("blocks", [])]
            for block in blocks:
                block.date = _date(block.date)
        except (TypeError, ValueError) as error:
            raise ValueError(f"--data: {error}") from error
        result = cls(
            days=days,
            blocks=blocks,
            activities=[_build(Activity, a, "activity") for a in data.get("activities", [])],
            scheduled_activities=[
                _build(ScheduledActivity, s, "scheduled activity")
                for s in data.get("scheduled_activities", [])
            ],
            signups=[_build(Signup, s, "signup") for s in data.get("signups", [])],
            favorites=[_build(Favorite, f, "favorite") for f in data.get("favorites", [])],
            public_signups=list(data.get("public_signups", [])),
            groups=[_build(Group, g, "group") for g in data.get("groups", [])],
            announcement_admins=list(data.get("announcement_admins", [])),
            announcements=[
                _build(Announcement, a, "announcement") for a in data.get("announcements", [])
            ],
            bus_routes=[_build(BusRoute, b, "bus route") for b in data.get("bus_routes", [])],
            emergency=_build(Emergency, data.get("emergency", {}), "emergency"),
        )
        result.check()
        return result

    def check(self) -> None:
        """References between records point at records that exist."""
        blocks = {b.id for b in self.blocks}
        activities = {a.id for a in self.activities}
        scheduled = {s.id for s in self.scheduled_activities}
        for item in self.scheduled_activities:
            if item.block not in blocks:
                raise ValueError(f"--data: scheduled activity {item.id}: no block {item.block}")
            if item.activity not in activities:
                raise ValueError(
                    f"--data: scheduled activity {item.id}: no activity {item.activity}"
                )
        for signup in self.signups:
            if signup.scheduled_activity not in scheduled:
                raise ValueError(
                    f"--data: signup {signup.id}: no scheduled activity {signup.scheduled_activity}"
                )
        for favorite in self.favorites:
            if favorite.activity not in activities:
                raise ValueError(f"--data: favorite: no activity {favorite.activity}")

    # -- lookups ------------------------------------------------------------------

    def day(self, date: datetime.date) -> Day | None:
        return next((d for d in self.days if d.date == date), None)

    def block(self, block_id: int) -> Block | None:
        return next((b for b in self.blocks if b.id == block_id), None)

    def activity(self, activity_id: int) -> Activity | None:
        return next((a for a in self.activities if a.id == activity_id), None)

    def scheduled(self, scheduled_id: int) -> ScheduledActivity | None:
        return next((s for s in self.scheduled_activities if s.id == scheduled_id), None)

    # The data was checked when loaded, so these always find what they look for.

    def block_of(self, item: ScheduledActivity) -> Block:
        return next(b for b in self.blocks if b.id == item.block)

    def activity_of(self, item: ScheduledActivity) -> Activity:
        return next(a for a in self.activities if a.id == item.activity)

    def scheduled_of(self, signup: Signup) -> ScheduledActivity:
        return next(s for s in self.scheduled_activities if s.id == signup.scheduled_activity)

    def scheduled_in(self, block_id: int) -> list[ScheduledActivity]:
        return [s for s in self.scheduled_activities if s.block == block_id]

    def signups_of(self, scheduled_id: int) -> list[Signup]:
        return [s for s in self.signups if s.scheduled_activity == scheduled_id]

    def favorite_ids(self, user: int) -> list[int]:
        return [f.activity for f in self.favorites if f.user == user]

    def in_groups(self, user: int) -> set[int]:
        return {g.id for g in self.groups if user in g.members}

    def next_signup_id(self) -> int:
        return max((s.id for s in self.signups), default=0) + 1


_current = IonData()
#: How to build the data the sandbox started with, for ``/sandbox/api/reset``.
_initial: Callable[[], IonData] = IonData


def current() -> IonData:
    """The data the running sandbox serves."""
    return _current


def install(build: Callable[[], IonData]) -> None:
    """Serve what ``build()`` makes from now on, and again after each :func:`reset`."""
    global _current, _initial  # the one store of a single-process development server
    data = build()
    _current, _initial = data, build


def reset() -> IonData:
    """Serve the data the sandbox started with again (signups and favorites undone)."""
    global _current  # see install()
    _current = _initial()
    return _current


# -- the demo data ---------------------------------------------------------------------

RED_DAY = [
    Period("Period 5", "8:40", "10:15"),
    Period("Period 6", "10:25", "12:00"),
    Period("Lunch", "12:00", "12:40"),
    Period("Period 7", "12:40", "14:15"),
    Period("8A", "14:25", "15:10"),
    Period("8B", "15:20", "16:00"),
]
BLUE_DAY = [
    Period(p.name.replace("5", "1").replace("6", "2").replace("7", "3"), p.start, p.end)
    for p in RED_DAY
]
ANCHOR_DAY = [
    Period("Period 1", "8:40", "9:25"),
    Period("Period 2", "9:35", "10:20"),
    Period("Period 3", "10:30", "11:15"),
    Period("Period 4", "11:25", "12:10"),
    Period("Lunch", "12:10", "12:50"),
    Period("Period 5", "12:50", "13:35"),
    Period("Period 6", "13:45", "14:30"),
    Period("Period 7", "14:40", "16:00"),
]
#: Eighth period meets on Wednesdays and Fridays.
EIGHTH_WEEKDAYS = (2, 4)
SCHOOL_DAYS_SHOWN = 10


def school_days(start: datetime.date, count: int) -> list[datetime.date]:
    """``count`` weekdays from ``start`` on (``start`` included when it is one)."""
    days: list[datetime.date] = []
    day = start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


def _stamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def demo_data(on: datetime.date | None = None) -> IonData:
    """The demo: the bell schedule of the last week, today and the next school days, the next eighth-period
    day's A and B blocks with activities that exercise every refusal, announcements (one
    for faculty only), bus routes, and no emergency."""
    start = on or today()
    dates = school_days(start, SCHOOL_DAYS_SHOWN)
    # The last week too: a site west of UTC asks for its own "today", a day behind Ion's
    # in the evening.
    week_ago = (start - datetime.timedelta(days=n) for n in range(7, 0, -1))
    past = [day for day in week_ago if day.weekday() < 5]
    days = []
    for number, date in enumerate([*past, *dates]):
        if date.weekday() == 0:
            days.append(Day(date, "Anchor Day", blocks=list(ANCHOR_DAY)))
        else:
            days.append(
                Day(
                    date,
                    "Red Day" if number % 2 == 0 else "Blue Day",
                    blocks=list(RED_DAY if number % 2 == 0 else BLUE_DAY),
                )
            )
    eighth = next(d for d in dates if d.weekday() in EIGHTH_WEEKDAYS)
    if eighth.weekday() == 0:  # pragma: no cover - eighth period never meets on Mondays
        eighth = dates[1]
    later = next(d for d in dates if d.weekday() in EIGHTH_WEEKDAYS and d > eighth)
    blocks = [
        Block(1, eighth, "A"),
        Block(2, eighth, "B"),
        Block(3, later, "A"),
        Block(4, later, "B"),
    ]
    activities = [
        Activity(
            1, "Robotics Club", "Build and program robots for the FIRST Robotics Competition."
        ),
        Activity(2, "Chess Club", "Casual and tournament chess. All skill levels welcome."),
        Activity(
            3,
            "Science Olympiad",
            "Practice for Science Olympiad events. Team members only.",
            restricted=True,
            authorized=[4],
        ),
        Activity(4, "Math Team", "Competition math practice (AMC, ARML)."),
        Activity(
            5,
            "Senior Seminar",
            "Required seminar for seniors; assigned by the counseling office.",
            sticky=True,
        ),
    ]
    scheduled = [
        ScheduledActivity(
            1, 1, 1, 28, comments="Bring your laptop.", rooms=["114"], sponsors=["Smith"]
        ),
        ScheduledActivity(2, 1, 2, 1, rooms=["201"], sponsors=["Garcia"]),
        ScheduledActivity(3, 1, 3, 60, rooms=["Library"], sponsors=["Garcia"]),
        ScheduledActivity(4, 1, 4, 25, cancelled=True, rooms=["201"], sponsors=["Smith"]),
        ScheduledActivity(5, 2, 1, 28, rooms=["114"], sponsors=["Smith"]),
        ScheduledActivity(6, 2, 4, 25, title="AMC Practice", rooms=["201"], sponsors=["Smith"]),
        ScheduledActivity(7, 2, 5, 150, rooms=["Auditorium"], sponsors=["Garcia"]),
        ScheduledActivity(8, 3, 1, 28, rooms=["114"], sponsors=["Smith"]),
        ScheduledActivity(9, 3, 2, 12, rooms=["201"], sponsors=["Garcia"]),
        ScheduledActivity(10, 4, 1, 28, rooms=["114"], sponsors=["Smith"]),
        ScheduledActivity(11, 4, 4, 25, rooms=["201"], sponsors=["Smith"]),
    ]
    signups = [Signup(1, 4, 2), Signup(2, 5, 1), Signup(3, 1, 7)]
    moment = datetime.datetime.combine(start, datetime.time(7, 30), datetime.timezone.utc)
    announcements = [
        Announcement(
            1,
            "Eighth period signups close at 12:40",
            "<p>Remember to sign up for today's 8A and 8B blocks before 12:40.</p>",
            "Eighth Period Office",
            3,
            _stamp(moment),
            _stamp(moment),
            pinned=True,
        ),
        Announcement(
            2,
            "Robotics Club interest meeting",
            "<p>New members welcome! Meet in room 114 during 8A.</p>",
            "Mary Smith",
            2,
            _stamp(moment + datetime.timedelta(minutes=5)),
            _stamp(moment + datetime.timedelta(minutes=5)),
        ),
        Announcement(
            3,
            "Faculty meeting moved to Thursday",
            "<p>The faculty meeting will be held in the library on Thursday.</p>",
            "Eve Admin",
            3,
            _stamp(moment + datetime.timedelta(minutes=10)),
            _stamp(moment + datetime.timedelta(minutes=10)),
            groups=[2],
        ),
    ]
    return IonData(
        days=days,
        blocks=blocks,
        activities=activities,
        scheduled_activities=scheduled,
        signups=signups,
        favorites=[Favorite(1, 1)],
        public_signups=[4],
        groups=[Group(2, "Faculty", [2, 3])],
        announcement_admins=[3],
        announcements=announcements,
        bus_routes=[
            BusRoute(1, "JT-101", "A3", "1042", "a"),
            BusRoute(2, "JT-205", "", "", "o"),
            BusRoute(3, "JT-310", "", "2271", "d"),
        ],
    )
