"""Eighth period: blocks, activities, signups and rosters."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from ion_oauth.resources.reading import Resource, at


@dataclass(frozen=True)
class Block(Resource, what="block"):
    """An eighth-period block: ``letter`` is ``"A"`` or ``"B"``."""

    id: int
    date: datetime.date
    letter: str = field(metadata=at("block_letter"))
    locked: bool | None = None


@dataclass(frozen=True)
class BlockActivity(Resource, what="block activity"):
    """An activity as scheduled in one block, as the caller sees it.

    ``restricted_for_user``: the caller may not join it. ``roster_count``/``capacity``:
    how many joined and how many may. ``title`` is the block's own title ("AMC Practice").
    """

    id: int
    scheduled_activity_id: int = field(metadata=at("scheduled_activity.id"))
    name: str
    name_with_flags: str = field(metadata=at("name_with_flags_for_user"))
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
    roster_count: int = field(metadata=at("roster.count"))
    capacity: int = field(metadata=at("roster.capacity"))
    rooms: tuple[str, ...]
    sponsors: tuple[str, ...]
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_full(self) -> bool:
        return self.roster_count >= self.capacity


@dataclass(frozen=True)
class BlockDetail(Resource, what="block"):
    """``/api/blocks/<id>``: the block and its activities in Ion's order."""

    id: int
    date: datetime.date
    letter: str = field(metadata=at("block_letter"))
    comments: str
    # Ion keys them by id, in a JSON object.
    activities: tuple[BlockActivity, ...] = field(metadata=at("activities", keyed=True))

    @property
    def block(self) -> Block:
        return Block(self.id, self.date, self.letter)


@dataclass(frozen=True)
class ActivitySummary(Resource, what="activity"):
    """An activity in a list (``/api/activities``, favorites): id and name."""

    id: int
    name: str


@dataclass(frozen=True)
class ScheduledOn(Resource, what="scheduled block"):
    """A block an activity is scheduled in, and the scheduled activity's id (its roster)."""

    block: Block = field(metadata=at(""))
    scheduled_activity_id: int = field(metadata=at("roster.id"))


@dataclass(frozen=True)
class Activity(Resource, what="activity"):
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
    scheduled_on: tuple[ScheduledOn, ...] = field(metadata=at("scheduled_on", keyed=True))
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class Signup(Resource, what="signup"):
    """One eighth-period signup; ``activity_title`` carries Ion's flags (``" (S)"``...)."""

    id: int
    block: Block
    activity_id: int = field(metadata=at("activity.id"))
    activity_title: str = field(metadata=at("activity.title"))
    scheduled_activity_id: int = field(metadata=at("scheduled_activity"))
    user_id: int = field(metadata=at("user"))


@dataclass(frozen=True)
class Member(Resource, what="roster member"):
    """A person on a roster."""

    id: int
    username: str
    full_name: str


@dataclass(frozen=True)
class Roster(Resource, what="roster"):
    """``/api/signups/scheduled_activity/<id>``. Students see only themselves and those who
    show their signups: ``count`` is everyone, ``members`` whom the caller may see."""

    id: int
    name: str
    block_id: int = field(metadata=at("block.id"))
    date: datetime.date = field(metadata=at("block.date"))
    activity_id: int = field(metadata=at("activity.id"))
    members: tuple[Member, ...] = field(metadata=at("signups.members"))
    count: int = field(metadata=at("signups.count"))
    capacity: int
