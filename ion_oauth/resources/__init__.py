"""What Ion's API answers, as typed objects: dates as ``date``, times as ``time``,
timestamps as aware ``datetime``.

They are frozen dataclasses rather than TypedDicts because Ion's values need converting:
``"8:40"`` is a ``time``, ``"2026-12-01"`` a ``date``, ``"…Z"`` an aware ``datetime``, and
a TypedDict can only describe the JSON, not turn it into those. The larger ones keep the
JSON they were built from in ``raw`` (left out of comparisons and ``repr``), so a field Ion
adds later is still at hand.

Each class only declares its fields: the type says how Ion's value is read and, where
Ion's name differs, ``field(metadata=at("roster.count"))`` says where it is (see
:mod:`ion_oauth.resources.reading`). Building one from JSON that lacks a field or has the
wrong type raises :class:`~ion_oauth.exceptions.IonResponseError` naming the field, never
a ``KeyError`` deep in a view.
"""

from ion_oauth.resources.eighth import (
    Activity,
    ActivitySummary,
    Block,
    BlockActivity,
    BlockDetail,
    Member,
    Roster,
    ScheduledOn,
    Signup,
)
from ion_oauth.resources.people import Grade, Picture, Profile, SearchResult
from ion_oauth.resources.school import Announcement, BusRoute, Day, Emergency, Period

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
