"""Typed calls for every endpoint of Ion's API, mixed into :class:`ion_oauth.api.IonClient`.

Each method sends its request through the client's :meth:`~ion_oauth.api.IonClient.exchange`
(same token refresh, pooled connections and network errors as ``get()``) and returns the
objects of :mod:`ion_oauth.resources`. List endpoints return lazy iterators: a page is
fetched when the iteration reaches it, with the largest page Ion allows, and Ion's ``next``
links are followed only on the client's own Ion host.

Ion's refusals become exceptions carrying Ion's own message: :class:`IonSignupRefused`
(with the ``reason``), :class:`IonNotFound`, :class:`IonPermissionDenied`, and
:class:`IonApiError` for the rest (field errors in ``field_errors``).

Scopes: Ion checks no OAuth scope today (a ``read`` token can sign up); ask for ``write``
anyway (``SOCIAL_AUTH_ION_SCOPE = ["write"]``) when a site calls :meth:`sign_up` or
:meth:`toggle_favorite`, so it keeps working if Ion starts checking.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qsl, quote, urlsplit

from ion_oauth import transport
from ion_oauth.exceptions import (
    IonApiError,
    IonNotFound,
    IonPermissionDenied,
    IonResponseError,
    IonSignupRefused,
    with_article,
)
from ion_oauth.resources import (
    Activity,
    ActivitySummary,
    Announcement,
    Block,
    BlockDetail,
    BusRoute,
    Day,
    Emergency,
    Picture,
    Profile,
    Roster,
    SearchResult,
    Signup,
)
from ion_oauth.resources.reading import many

T = TypeVar("T")

#: The largest ``page_size`` Ion accepts for the bell schedule and for blocks; its other
#: lists have a fixed page of 50.
SCHEDULE_PAGE_SIZE = 7
BLOCKS_PAGE_SIZE = 200
#: Words in Ion's signup refusals, and the ``reason`` each becomes.
REFUSAL_REASONS = (
    ("cancelled", "cancelled"),
    ("restricted", "restricted"),
    ("sticky", "sticky"),
    ("full", "full"),
    ("locked", "locked"),
    ("may not sign this student up", "not_allowed"),
)
PICTURE_YEARS = ("freshman", "sophomore", "junior", "senior")


class IonExchange(Protocol):
    """What the typed methods need from the client they are mixed into;
    :class:`~ion_oauth.api.IonClient` provides both."""

    base_url: str

    def exchange(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        accept: str = "application/json",
    ) -> tuple[int, bytes, Mapping[str, str]]:
        """Send one request to Ion's API as the user; Ion's status, body and headers."""


class IonApiMethods(IonExchange):
    """Ion's API endpoints as methods; see the module docstring."""

    # -- the directory and people ------------------------------------------------------

    def api_root(self) -> dict[str, Any]:
        """``/api``: Ion's directory of endpoints, as Ion sends it."""
        root = self._call("GET", "/api")
        if not isinstance(root, dict):
            raise _unreadable("API directory")
        return root

    def profile(self, user: int | str | None = None) -> Profile:
        """The user's own profile, or another person's by id or username (any case)."""
        path = "profile" if user is None else f"profile/{_segment(user)}"
        return Profile.from_json(self._call("GET", path))

    def picture(self, user: int | str, year: str | None = None) -> Picture:
        """A person's picture (of a school ``year``: ``"freshman"`` ... ``"senior"``).

        Ion labels every picture ``image/jpeg``; :attr:`Picture.content_type` is the type
        the bytes really are.
        """
        if year is not None and year not in PICTURE_YEARS:
            raise ValueError(f"year must be one of {', '.join(PICTURE_YEARS)}, not {year!r}")
        path = f"profile/{_segment(user)}/picture" + (f"/{year}" if year else "")
        status, body, headers = self.exchange("GET", path, accept="image/*")
        if status != 200:
            raise api_error(status, body, headers)
        return Picture(body, headers.get("Content-Type", ""))

    def search(self, query: str) -> Iterator[SearchResult]:
        """People matching ``query``: words match names, ``last:Lee``, ``type:teacher``... one
        field."""
        if not query.strip():
            raise ValueError("search needs a query")
        return self._pages(f"search/{quote(query, safe=':')}", SearchResult.from_json)

    # -- the bell schedule -------------------------------------------------------------

    def schedule(self, on: datetime.date | None = None) -> Day:
        """The bell schedule of one day (default: today, by this computer's clock). A day
        without school has no periods."""
        date = on or datetime.date.today()
        return Day.from_json(self._call("GET", f"schedule/{date.isoformat()}"))

    def schedule_days(self) -> Iterator[Day]:
        """The coming school days, from today (Ion counts days in UTC), 7 per request."""
        return self._pages("schedule", Day.from_json, page_size=SCHEDULE_PAGE_SIZE)

    # -- eighth period -----------------------------------------------------------------

    def blocks(
        self, on: datetime.date | None = None, *, start: datetime.date | None = None
    ) -> Iterator[Block]:
        """This school year's eighth-period blocks, those ``on`` one date, or those from
        ``start`` on; 200 per request (a year is one or two)."""
        if on is not None and start is not None:
            raise ValueError("give on or start, not both")
        params = {}
        if on is not None:
            params["date"] = on.isoformat()
        if start is not None:
            params["start_date"] = start.isoformat()
        return self._pages("blocks", Block.from_json, params, page_size=BLOCKS_PAGE_SIZE)

    def block(self, block_id: int) -> BlockDetail:
        """One block with its activities as the user sees them (room, capacity, who may
        join)."""
        return BlockDetail.from_json(self._call("GET", f"blocks/{int(block_id)}"))

    def activities(self) -> Iterator[ActivitySummary]:
        """Every eighth-period activity (id and name), by id."""
        return self._pages("activities", ActivitySummary.from_json)

    def activity(self, activity_id: int) -> Activity:
        """One activity and the blocks it is scheduled in."""
        return Activity.from_json(self._call("GET", f"activities/{int(activity_id)}"))

    def signups(
        self,
        user_id: int | None = None,
        *,
        on: datetime.date | None = None,
        start: datetime.date | None = None,
    ) -> list[Signup]:
        """The user's signups this school year (or another person's: Ion shows a student
        only the signups of people who show theirs), by date; ``on``/``start`` filter."""
        if on is not None and start is not None:
            raise ValueError("give on or start, not both")
        params = {}
        if on is not None:
            params["date"] = on.isoformat()
        if start is not None:
            params["start_date"] = start.isoformat()
        path = "signups/user" if user_id is None else f"signups/user/{int(user_id)}"
        return many(Signup.from_json, self._call("GET", path, params=params), "signup list")

    def sign_up(
        self,
        scheduled_activity: int | None = None,
        *,
        block: int | None = None,
        activity: int | None = None,
        user_id: int | None = None,
        force: bool = False,
    ) -> Activity:
        """Sign up for a scheduled activity (or an ``activity`` in a ``block``); a signup
        in the same block is replaced. ``user_id`` signs someone else up and ``force``
        overrides the limits: both are for eighth-period admins.

        Returns the activity as Ion does. Raises :class:`IonSignupRefused` with Ion's
        reason (cancelled, restricted, sticky, full, locked, not_allowed) and message.
        """
        if scheduled_activity is not None:
            if block is not None or activity is not None:
                raise ValueError("give scheduled_activity, or block and activity, not both")
            data = {"scheduled_activity": str(int(scheduled_activity))}
        elif block is not None and activity is not None:
            data = {"block": str(int(block)), "activity": str(int(activity))}
            data["use_scheduled_activity"] = "false"
        else:
            raise ValueError("sign_up needs scheduled_activity, or block and activity")
        if force:
            data["force"] = "true"
        path = "signups/user" if user_id is None else f"signups/user/{int(user_id)}"
        return Activity.from_json(self._call("POST", path, data=data, signup=True))

    def favorites(self) -> list[ActivitySummary]:
        """The user's favorite activities."""
        body = self._call("GET", "signups/user/favorites")
        return many(ActivitySummary.from_json, body, "favorites")

    def toggle_favorite(self, activity_id: int) -> Activity:
        """Add the activity to the user's favorites, or remove it if it is one (Ion has only
        a toggle); returns the activity."""
        data = {"activity": str(int(activity_id))}
        return Activity.from_json(self._call("POST", "signups/user/favorites", data=data))

    def roster(self, scheduled_activity_id: int) -> Roster:
        """Who signed up for a scheduled activity (students see only those who show it)."""
        path = f"signups/scheduled_activity/{int(scheduled_activity_id)}"
        return Roster.from_json(self._call("GET", path))

    # -- announcements, buses, emergencies ---------------------------------------------

    def announcements(self) -> Iterator[Announcement]:
        """The announcements the user may see, pinned first, then newest."""
        return self._pages("announcements", Announcement.from_json)

    def announcement(self, announcement_id: int) -> Announcement:
        """One announcement; :class:`IonNotFound` also when the user may not see it."""
        body = self._call("GET", f"announcements/{int(announcement_id)}")
        return Announcement.from_json(body)

    def bus_routes(self) -> Iterator[BusRoute]:
        """Every bus route, by name, with where its bus is."""
        return self._pages("bus", BusRoute.from_json)

    def bus_route(self, route_id: int) -> BusRoute:
        """One bus route."""
        return BusRoute.from_json(self._call("GET", f"bus/{int(route_id)}"))

    def emergency(self) -> Emergency:
        """FCPS's emergency status (closings, delays)."""
        return Emergency.from_json(self._call("GET", "emerg"))

    # -- plumbing ----------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        signup: bool = False,
    ) -> Any:
        """Ion's JSON answer (object or list), or the exception for its refusal."""
        status, body, headers = self.exchange(method, path, params=params, data=data)
        if 200 <= status < 300:
            try:
                return json.loads(body.decode("utf-8"))
            except (UnicodeError, ValueError):
                raise _unreadable("API response") from None
        raise api_error(status, body, headers, signup=signup)

    def _pages(
        self,
        path: str,
        build: Callable[[Any], T],
        params: Mapping[str, str] | None = None,
        *,
        page_size: int | None = None,
    ) -> Iterator[T]:
        query = dict(params or {})
        if page_size is not None:
            query["page_size"] = str(page_size)
        return self._follow(path, query, build)

    def _follow(self, path: str, query: dict[str, str], build: Callable[[Any], T]) -> Iterator[T]:
        while True:
            page = self._call("GET", path, params=query)
            if not isinstance(page, dict) or not isinstance(page.get("results"), list):
                raise _unreadable("page of results")
            for item in page["results"]:
                yield build(item)
            following = page.get("next")
            if not following:
                return
            path, query = self._next_page(following)

    def _next_page(self, url: Any) -> tuple[str, dict[str, str]]:
        """The path and query of Ion's ``next`` link; a link to any other host is refused,
        so the user's token never leaves Ion."""
        if not isinstance(url, str):
            raise _unreadable("page link")
        parts, own = urlsplit(url), urlsplit(self.base_url)
        if parts.netloc.lower() != own.netloc.lower() or not parts.path.startswith(
            own.path.rstrip("/") + "/api"
        ):
            raise IonResponseError(
                None,
                "Ion's link to the next page points away from Ion "
                f"({parts.scheme}://{parts.netloc}); it was not followed.",
                code="malformed_response",
                stage="user_info",
            )
        return parts.path[len(own.path.rstrip("/")) :], dict(parse_qsl(parts.query))


def _segment(value: int | str) -> str:
    """One path segment from an id or a username."""
    text = str(value)
    if not text or "/" in text or text in (".", ".."):
        raise ValueError(f"not an Ion id or username: {value!r}")
    return quote(text, safe="")


def _unreadable(what: str) -> IonResponseError:
    return IonResponseError(
        None,
        f"Ion sent {with_article(what)} this site could not read. Please try again later.",
        code="malformed_response",
        stage="user_info",
    )


def error_messages(body: bytes) -> tuple[list[str], dict[str, list[str]]]:
    """Ion's messages from an error body of any of its shapes, and its field errors."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeError, ValueError):
        return [], {}
    if isinstance(payload, list):
        return [str(item) for item in payload], {}
    if not isinstance(payload, dict):
        return [], {}
    if isinstance(payload.get("detail"), str):
        return [payload["detail"]], {}
    if isinstance(payload.get("details"), list):
        return [str(item) for item in payload["details"]], {}
    if isinstance(payload.get("error"), str):
        return [payload["error"]], {}
    fields = {
        str(key): [str(m) for m in value] if isinstance(value, list) else [str(value)]
        for key, value in payload.items()
    }
    messages = [
        message if key == "non_field_errors" else f"{key}: {message}"
        for key, values in fields.items()
        for message in values
    ]
    return messages, fields


def api_error(
    status: int, body: bytes, headers: Mapping[str, str], *, signup: bool = False
) -> Exception:
    """The exception for one of Ion's refusals; server errors and rate limits are
    :class:`~ion_oauth.exceptions.IonUnavailable`, as for every request to Ion."""
    if status >= 500 or status == 429 or status < 400:
        try:
            transport.check_response(status, body, headers, what="API", stage="user_info")
        except Exception as error:
            return error
    messages, fields = error_messages(body)
    if not messages:
        # Not JSON: Ion's HTML "Page Not Found", or a picture error's bare word.
        what = "has no such page" if status == 404 else "refused the request"
        messages = [f"Ion {what} (HTTP {status})."]
    message = " ".join(messages)
    if status == 404:
        return IonNotFound(message, status_code=status, messages=messages, field_errors=fields)
    if status == 403:
        return IonPermissionDenied(
            message, status_code=status, messages=messages, field_errors=fields
        )
    if signup and not fields and _is_refusal(body):
        reasons = [_reason(m) for m in messages]
        return IonSignupRefused(message, status_code=status, messages=messages, reasons=reasons)
    return IonApiError(message, status_code=status, messages=messages, field_errors=fields)


def _is_refusal(body: bytes) -> bool:
    """Ion's eighth-period refusals come as ``{"details": [...]}``."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeError, ValueError):
        return False
    return isinstance(payload, dict) and isinstance(payload.get("details"), list)


def _reason(message: str) -> str:
    lowered = message.lower()
    for word, reason in REFUSAL_REASONS:
        if word in lowered:
            return reason
    return "other"
