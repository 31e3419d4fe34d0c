"""People: profiles, their grades and pictures, and search results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ion_oauth.resources.reading import Resource, at


@dataclass(frozen=True)
class Grade(Resource, what="grade"):
    """``{"number": 12, "name": "senior"}``; staff are ``13``, ``"graduate"``."""

    number: int
    name: str


@dataclass(frozen=True)
class Profile(Resource, what="profile"):
    """``/api/profile[/<id or username>]``. ``student_id`` is None when Ion hides it (it
    shows it only to teachers and eighth-period admins)."""

    id: int
    username: str = field(metadata=at("ion_username"))
    full_name: str
    display_name: str
    short_name: str
    first_name: str
    last_name: str
    nickname: str | None
    title: str | None
    sex: str
    email: str = field(metadata=at("tj_email"))
    student_id: int | None
    grade: Grade
    graduation_year: int | None
    user_type: str
    picture_url: str = field(metadata=at("picture"))
    is_eighth_admin: bool
    is_teacher: bool
    is_student: bool
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


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
class SearchResult(Resource, what="search result"):
    """One person found by ``/api/search``; ``grade`` only for students."""

    id: int
    username: str
    full_name: str
    first_name: str
    last_name: str
    user_type: str
    grade: Grade | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
