"""The school day: the bell schedule, announcements, buses and emergencies."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from ion_oauth.resources.reading import Resource, at


@dataclass(frozen=True)
class Period(Resource, what="schedule period"):
    """One period of a bell schedule (Ion calls them blocks): ``start``/``end`` are times."""

    order: int
    name: str
    start: datetime.time
    end: datetime.time


@dataclass(frozen=True)
class Day(Resource, what="schedule day"):
    """One day's bell schedule. A day without school has no periods; Ion names it
    ``"NO SCHOOL<br>"`` (``name`` keeps Ion's text; ``is_school_day`` is the question)."""

    date: datetime.date
    name: str = field(metadata=at("day_type.name"))
    special: bool = field(metadata=at("day_type.special"))
    periods: tuple[Period, ...] = field(metadata=at("day_type.blocks", order_by="order"))
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_school_day(self) -> bool:
        return bool(self.periods)


@dataclass(frozen=True)
class Announcement(Resource, what="announcement"):
    """An announcement; ``content`` is HTML as Ion stores it (escape or sanitize it)."""

    id: int
    title: str
    content: str
    author: str
    user_id: int | None = field(metadata=at("user"))
    added: datetime.datetime
    updated: datetime.datetime
    groups: tuple[int, ...]
    pinned: bool


@dataclass(frozen=True)
class BusRoute(Resource, what="bus route"):
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


@dataclass(frozen=True)
class Emergency(Resource, what="emergency status"):
    """FCPS's emergency status: ``message`` is HTML when ``status``; None when Ion could not
    reach FCPS."""

    status: bool
    message: str | None
