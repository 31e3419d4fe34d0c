"""Checks on the JSON Ion sends: token responses and ``/api/profile``.

Pure functions: they take the decoded JSON and return it checked, or raise
:class:`~ion_oauth.exceptions.IonResponseError` naming the field that is wrong, so nothing
half-checked reaches the pipeline and no user is created from a broken profile.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ion_oauth.exceptions import IonResponseError

if TYPE_CHECKING:
    from social_core.backends.base import BaseAuth

logger = logging.getLogger("ion_oauth")

#: RFC 6750's b64token: all that may follow "Bearer " in an Authorization header.
_BEARER_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
#: Longest text a profile field may carry: Django's username and name columns hold 150
#: characters and its email 254; Ion's own values are far shorter.
_MAX_TEXT = {"tj_email": 254, "picture": 2000}
_MAX_TEXT_DEFAULT = 150
#: Ion's ids fit a 64-bit column; graduation years have four digits.
_MAX_ID = 2**63 - 1

_STR = (str,)
_OPTIONAL_STR = (str, type(None))


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _fail(backend: BaseAuth[object] | None, what: str, field: str, stage: str) -> IonResponseError:
    # The field's name only: its value may be a token.
    logger.warning("Ion %s response has a missing or invalid %r field", what, field)
    return IonResponseError(
        backend,
        f"Ion's {what} response has a missing or invalid '{field}' field. "
        "Please try again later or tell the site's administrator.",
        code="missing_claim",
        stage=stage,
    )


def parse_token(
    data: Mapping[str, Any],
    *,
    backend: BaseAuth[object] | None = None,
    stage: str = "token_exchange",
) -> dict[str, Any]:
    """Check a token response (code exchange or refresh) and return it as a dict."""
    for field in ("access_token", "refresh_token"):
        token = data.get(field, "x" if field == "refresh_token" else None)
        if not isinstance(token, str) or not _BEARER_TOKEN.fullmatch(token):
            raise _fail(backend, "token", field, stage)
    token_type = data.get("token_type", "Bearer")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise _fail(backend, "token", "token_type", stage)
    expires_in = data.get("expires_in")
    if expires_in is not None and (not _is_int(expires_in) or expires_in <= 0):
        raise _fail(backend, "token", "expires_in", stage)
    scope = data.get("scope", "")
    if not isinstance(scope, str) or not _storable(scope, 1000):
        raise _fail(backend, "token", "scope", stage)
    return dict(data)


_PROFILE_FIELDS: dict[str, tuple[type, ...]] = {
    "ion_username": _STR,
    "first_name": _OPTIONAL_STR,
    "last_name": _OPTIONAL_STR,
    "full_name": _OPTIONAL_STR,
    "display_name": _OPTIONAL_STR,
    "tj_email": _OPTIONAL_STR,
    "user_type": _OPTIONAL_STR,
    "picture": _OPTIONAL_STR,
    "is_student": (bool,),
    "is_teacher": (bool,),
    "is_eighth_admin": (bool,),
}
_REQUIRED = ("id", "ion_username", "is_student", "is_teacher", "is_eighth_admin")


def parse_profile(
    data: Mapping[str, Any], *, backend: BaseAuth[object] | None = None, stage: str = "user_info"
) -> dict[str, Any]:
    """Check an ``/api/profile`` body; fields the site relies on must have Ion's types."""
    for field in _REQUIRED:
        if field not in data:
            raise _fail(backend, "profile", field, stage)
    if not _is_int(data["id"]) or not 0 < data["id"] <= _MAX_ID:
        raise _fail(backend, "profile", "id", stage)
    if not isinstance(data["ion_username"], str) or not data["ion_username"].strip():
        raise _fail(backend, "profile", "ion_username", stage)
    for field, types in _PROFILE_FIELDS.items():
        value = data.get(field)
        if field in data and not isinstance(value, types):
            raise _fail(backend, "profile", field, stage)
        if isinstance(value, str) and not _storable(value, _MAX_TEXT.get(field, _MAX_TEXT_DEFAULT)):
            raise _fail(backend, "profile", field, stage)
    year = data.get("graduation_year")
    if year is not None and not (_is_int(year) and 0 < year < 10_000):
        raise _fail(backend, "profile", "graduation_year", stage)
    picture = data.get("picture")
    if picture and not _on_ion(picture, backend):
        # A site renders it as a link or an image: a javascript: URL or another host's
        # tracker must not get there. It is not worth refusing the login for.
        logger.warning("Ignoring a profile picture URL that is not on Ion: %r", picture[:100])
        data = {**data, "picture": None}
    grade = data.get("grade")
    if grade is not None and not (
        isinstance(grade, Mapping)
        and (grade.get("number") is None or _is_int(grade.get("number")))
        and (grade.get("name") is None or _storable_text(grade.get("name")))
    ):
        raise _fail(backend, "profile", "grade", stage)
    return dict(data)


def _on_ion(url: str, backend: BaseAuth[object] | None) -> bool:
    """Whether ``url`` is http(s) on Ion's host (the backend's base URL, when known)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    base_url = getattr(backend, "base_url", None)
    if not callable(base_url):
        return True
    return parts.hostname == urlsplit(str(base_url())).hostname


def _storable(value: str, max_length: int) -> bool:
    """Text a database column can hold: not too long, no NUL (PostgreSQL refuses it)."""
    return len(value) <= max_length and "\x00" not in value


def _storable_text(value: object) -> bool:
    return isinstance(value, str) and _storable(value, _MAX_TEXT_DEFAULT)


def roles_of(profile: Mapping[str, Any]) -> set[str]:
    """The roles (``student``, ``teacher``, ``eighth_admin``) an Ion profile carries."""
    flags = {"student": "is_student", "teacher": "is_teacher", "eighth_admin": "is_eighth_admin"}
    return {role for role, flag in flags.items() if profile.get(flag) is True}
