"""The sandbox's REST API beyond ``/api/profile``, answering as Ion's does.

Every rule here was recorded from a real Ion (see ``tests/fixtures/ion/api/README.md``):
session or bearer authentication with 403 (never 401) for a missing or bad token, no scope
checks, Django REST framework's pagination and error shapes next to Ion's own
``{"details": [...]}``, compact JSON in Ion's key order, and DRF's content negotiation
(``?format=json``, the browsable HTML for ``Accept: text/html``, 406 otherwise).
"""

from __future__ import annotations

import datetime
import functools
import html
import json
import struct
import zlib
from collections.abc import Callable, Iterable, Sequence
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import get_user
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from oauth2_provider.oauth2_backends import get_oauthlib_core

from ion_oauth.sandbox import api_data, stats
from ion_oauth.sandbox.api_data import (
    Activity,
    Announcement,
    Block,
    IonData,
    ScheduledActivity,
    Signup,
)
from ion_oauth.sandbox.control import control_endpoint
from ion_oauth.sandbox.models import Person

NOT_AUTHENTICATED = "Authentication credentials were not provided."
NOT_PERMITTED = "You do not have permission to perform this action."
DOES_NOT_EXIST = "Object does not exist (in database)."
INVALID_PAGE = "Invalid page."
UNKNOWN_ERROR = "Unknown error occurred."
NEEDS_BLOCK_AND_ACTIVITY = (
    "Either scheduled_activity, or block and activity must exist. "
    "use_scheduled_activity must be false to use block and activity."
)
#: Eighth-period refusals: Ion sorts them by the error's name.
REFUSALS = {
    "ActivityFull": "This activity is full. You may not sign up for it at this time.",
    "BlockLocked": "This block has been locked.",
    "NotAStudent": "You may not sign this student up for activities.",
    "Restricted": (
        "You may not sign up for this restricted activity. You are not on the authorized list."
    ),
    "ScheduledActivityCancelled": "This activity has been cancelled for this block.",
    "Sticky": "You may not switch out of a sticky activity.",
}
#: Users Ion keeps out of most of its API.
RESTRICTED_USER_TYPES = ("user", "alum", "service")
READ = ("GET", "HEAD", "OPTIONS")
VARY = "Accept, origin, Authorization, Cookie"


class ApiError(Exception):
    """An answer other than success, raised from anywhere in a view."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def not_found(detail: str) -> ApiError:
    return ApiError(404, {"detail": detail})


def does_not_exist() -> ApiError:
    return ApiError(404, {"details": [DOES_NOT_EXIST]})


# -- requests and responses ---------------------------------------------------------------


def requester(request: HttpRequest) -> Person | None:
    """Who is calling: the sandbox's session user first (as Ion), else the bearer token's."""
    user = get_user(request)
    if user.is_authenticated:
        found: Person | None = Person.objects.filter(pk=user.pk).first()
        return found
    valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[])
    if not valid:
        return None
    person: Person = oauth_request.user.person
    return person


def renderer(request: HttpRequest) -> str | None:
    """DRF's content negotiation: ``json``, ``html`` (the browsable API) or None (406)."""
    fmt = request.GET.get("format")
    if fmt == "json":
        return "json"
    if fmt == "api":
        return "html"
    accept = request.headers.get("Accept", "") or "*/*"
    ranked = []
    for position, part in enumerate(accept.split(",")):
        kind, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        ranked.append((-quality, position, kind.lower()))
    for _, _, kind in sorted(ranked):
        if kind in ("application/json", "application/*", "*/*"):
            return "json"
        if kind in ("text/html", "text/*"):
            return "html"
    return None


def render(
    request: HttpRequest, body: Any, status: int, *, allow: str, title: str, fmt: str
) -> HttpResponse:
    """Compact JSON as Ion sends it, or a small stand-in for DRF's browsable page."""
    if fmt == "html":
        phrase = HTTPStatus(status).phrase
        page = (
            f"<!DOCTYPE html><html><head><title>Ion API - {html.escape(request.path)}</title>"
            f"</head><body><h1>{html.escape(title)}</h1><pre>HTTP {status} {phrase}</pre>"
            f"<pre>{html.escape(json.dumps(body, indent=4, ensure_ascii=False))}</pre>"
            "</body></html>"
        )
        response = HttpResponse(page, status=status, content_type="text/html; charset=utf-8")
    elif status == 204:
        response = HttpResponse(status=204)
    else:
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        response = HttpResponse(text, status=status, content_type="application/json")
    response["Allow"] = allow
    response["Vary"] = VARY
    return response


View = Callable[..., Any]


def endpoint(
    methods: Sequence[str],
    *,
    title: str,
    anonymous: Iterable[str] = (),
    allow: str | None = None,
    counter: str | None = None,
) -> Callable[[View], Callable[..., HttpResponse]]:
    """One API view: negotiation (406), authentication (403), methods (405), errors.

    ``methods`` are those the view answers besides HEAD and OPTIONS; ``anonymous`` those
    that need no login (Ion's AllowAny); ``allow`` overrides the ``Allow`` header;
    ``counter`` is the ``/sandbox/stats`` counter every request adds one to. The view gets the request, the person (or None),
    the data, and the URL's arguments, and returns ``(status, body)`` or a body (200).
    """
    allowed = [*methods, "HEAD", "OPTIONS"]
    # Ion's function-based views list their methods the other way round.
    allow = allow or ", ".join(allowed)
    open_methods = set(anonymous)

    def decorate(view: View) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @functools.wraps(view)
        def wrapped(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            if counter is not None:
                stats.count(counter)
            fmt = renderer(request)
            if fmt is None:
                body = {"detail": "Could not satisfy the request Accept header."}
                return render(request, body, 406, allow=allow, title=title, fmt="json")
            method = "GET" if request.method == "HEAD" else request.method or "GET"
            person = requester(request)
            needs_login = method not in open_methods and method != "OPTIONS"
            try:
                if needs_login and method in allowed:
                    if person is None:
                        raise ApiError(403, {"detail": NOT_AUTHENTICATED})
                    if person.profile.get("user_type") in RESTRICTED_USER_TYPES:
                        raise ApiError(403, {"detail": NOT_PERMITTED})
                if method not in allowed:
                    if person is None and method not in open_methods and not open_methods:
                        raise ApiError(403, {"detail": NOT_AUTHENTICATED})
                    raise ApiError(405, {"detail": f'Method "{request.method}" not allowed.'})
                if method == "OPTIONS":
                    result: Any = options(title, methods)
                else:
                    data = api_data.current()
                    with data.lock:
                        result = view(request, person, data, **kwargs)
            except ApiError as error:
                return render(request, error.body, error.status, allow=allow, title=title, fmt=fmt)
            status, body = result if isinstance(result, tuple) else (200, result)
            return render(request, body, status, allow=allow, title=title, fmt=fmt)

        return wrapped

    return decorate


SIGNUP_ACTIONS = {
    "POST": {
        "block": {"type": "field", "required": False, "read_only": False, "label": "Block"},
        "activity": {"type": "field", "required": False, "read_only": False, "label": "Activity"},
        "scheduled_activity": {
            "type": "field",
            "required": False,
            "read_only": False,
            "label": "Scheduled activity",
        },
        "use_scheduled_activity": {
            "type": "boolean",
            "required": False,
            "read_only": False,
            "label": "Use scheduled activity",
        },
        "force": {"type": "boolean", "required": False, "read_only": False, "label": "Force"},
    }
}


def options(title: str, methods: Sequence[str]) -> dict[str, Any]:
    """DRF's answer to OPTIONS: what the view renders and parses."""
    body: dict[str, Any] = {
        "name": title,
        "description": "",
        "renders": ["application/json", "text/html"],
        "parses": ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"],
    }
    if title == "Eighth User Signup List Add":
        body["actions"] = SIGNUP_ACTIONS
    return body


def link(request: HttpRequest, path: str) -> str:
    """An absolute URL of the API, carrying ``?format=json`` like DRF's when asked with it."""
    url = request.build_absolute_uri(path)
    if request.GET.get("format") == "json":
        url += "?format=json"
    return url


def paginate(
    request: HttpRequest,
    items: Sequence[Any],
    serialize: Callable[[Any], Any],
    *,
    page_size: int = 50,
    max_page_size: int | None = None,
) -> dict[str, Any]:
    """DRF's PageNumberPagination: ``count``, absolute ``next``/``previous``, ``results``."""
    size = page_size
    if max_page_size is not None:
        asked = request.GET.get("page_size", "")
        if asked.isdigit() and int(asked) > 0:
            size = min(int(asked), max_page_size)
    pages = max(1, -(-len(items) // size))
    raw = request.GET.get("page", "1")
    number = pages if raw == "last" else int(raw) if raw.isdigit() else 0
    if not 1 <= number <= pages:
        raise not_found(INVALID_PAGE)

    def page_url(page: int) -> str:
        query = {k: v for k, v in request.GET.items() if k != "page"}
        if page > 1:
            query["page"] = str(page)
        encoded = urlencode(sorted(query.items()))
        return request.build_absolute_uri(request.path.rstrip("/") or "/") + (
            f"?{encoded}" if encoded else ""
        )

    return {
        "count": len(items),
        "next": page_url(number + 1) if number < pages else None,
        "previous": page_url(number - 1) if number > 1 else None,
        "results": [serialize(item) for item in items[(number - 1) * size : number * size]],
    }


def request_fields(request: HttpRequest) -> dict[str, Any]:
    """The fields of a POST, sent as JSON or as a form."""
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except ValueError as error:
            raise ApiError(400, {"detail": f"JSON parse error - {error}"}) from error
        if not isinstance(body, dict):
            raise ApiError(
                400, {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}
            )
        return body
    return dict(request.POST.items())


def boolean(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True", "on", "yes")


def is_staff(person: Person) -> bool:
    """Teachers and eighth admins see everyone's signups."""
    return bool(person.profile.get("is_teacher") or person.profile.get("is_eighth_admin"))


def is_eighth_admin(person: Person) -> bool:
    return bool(person.profile.get("is_eighth_admin"))


def school_year(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Ion's school year: August 1 to July 1."""
    first = today.year if today.month >= 8 else today.year - 1
    return datetime.date(first, 8, 1), datetime.date(first + 1, 7, 1)


def date_param(request: HttpRequest, name: str) -> datetime.date | None:
    value = request.GET.get(name)
    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, [f"Invalid format for {name}."]) from None


def pk_field(fields: dict[str, Any], name: str, exists: Callable[[int], Any]) -> Any:
    """A DRF PrimaryKeyRelatedField: the object, None when absent, 400 when unknown."""
    value = fields.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not str(value).isdigit():
        kind = type(value).__name__
        raise ApiError(400, {name: [f"Incorrect type. Expected pk value, received {kind}."]})
    found = exists(int(value))
    if found is None:
        raise ApiError(400, {name: [f'Invalid pk "{value}" - object does not exist.']})
    return found


# -- serializers -------------------------------------------------------------------------


def profile_of(request: HttpRequest, viewer: Person, person: Person) -> dict[str, Any]:
    """A profile as ``viewer`` sees it: ``student_id`` only for teachers and eighth admins."""
    picture = request.build_absolute_uri(f"/api/profile/{person.pk}/picture")
    if request.GET.get("format") == "json":
        picture += "?format=jpg"
    document = person.ion_profile(picture)
    document.pop("student_id", None)
    if is_staff(viewer):
        items = list(document.items())
        at = [key for key, _ in items].index("grade")
        items.insert(at, ("student_id", person.profile.get("student_id")))
        document = dict(items)
    return document


def day_json(request: HttpRequest, data: IonData, date: datetime.date) -> dict[str, Any]:
    day = data.day(date)
    if day is None:
        day_type = {"name": "NO SCHOOL<br>", "special": False, "blocks": []}
    else:
        day_type = {
            "name": day.name,
            "special": day.special,
            "blocks": [
                {"order": order, "name": p.name, "start": p.start, "end": p.end}
                for order, p in enumerate(day.blocks, start=1)
            ],
        }
    return {
        "url": link(request, f"/api/schedule/{date.isoformat()}"),
        "date": date.isoformat(),
        "day_type": day_type,
    }


def title_of(activity: Activity, scheduled: ScheduledActivity, *, cancelled: bool = True) -> str:
    """The activity's title with Ion's flags, as in signups and rosters."""
    title = activity.name + (f" - {scheduled.title}" if scheduled.title else "")
    if activity.sticky:
        title += " (S)"
    if activity.restricted:
        title += " (R)"
    if cancelled and scheduled.cancelled:
        title += " (Cancelled)"
    return title


def presign_time(block: Block) -> str:
    moment = datetime.datetime.combine(block.date, datetime.time()) - datetime.timedelta(hours=28)
    hour = moment.hour % 12 or 12
    return f"{moment:%A, %B} {moment.day} at {hour}:{moment:%M %p}"


def activity_detail(request: HttpRequest, data: IonData, activity: Activity) -> dict[str, Any]:
    """``/api/activities/<id>``, and what a signup or a favorite toggle answers."""
    scheduled = sorted(
        (s for s in data.scheduled_activities if s.activity == activity.id),
        key=lambda s: (data.block_of(s).date, data.block_of(s).block_letter),
    )
    scheduled_on = {}
    for item in scheduled:
        block = data.block_of(item)
        scheduled_on[str(block.id)] = {
            "id": block.id,
            "date": block.date.isoformat(),
            "block_letter": block.block_letter,
            "url": link(request, f"/api/blocks/{block.id}"),
            "roster": {
                "id": item.id,
                "url": link(request, f"/api/signups/scheduled_activity/{item.id}"),
            },
        }
    return {
        "id": activity.id,
        "name": activity.name,
        "description": activity.description,
        "administrative": activity.administrative,
        "restricted": activity.restricted,
        "presign": activity.presign,
        "one_a_day": activity.one_a_day,
        "both_blocks": activity.both_blocks,
        "sticky": activity.sticky,
        "special": activity.special,
        "scheduled_on": scheduled_on,
    }


def restricted_for(person: Person, activity: Activity) -> bool:
    return (
        activity.restricted and not is_eighth_admin(person) and person.pk not in activity.authorized
    )


def block_activity(
    request: HttpRequest, data: IonData, person: Person, block: Block, item: ScheduledActivity
) -> dict[str, Any]:
    """One activity of ``/api/blocks/<id>`` as ``person`` sees it."""
    activity = data.activity_of(item)
    restricted_for_user = restricted_for(person, activity)
    name = activity.name + (f" - {item.title}" if item.title else "")
    flags = (" (R)" if restricted_for_user else "") + (" (S)" if activity.sticky else "")
    roster_url = link(request, f"/api/signups/scheduled_activity/{item.id}")
    return {
        "id": activity.id,
        "aid": activity.id,
        "scheduled_activity": {"id": item.id, "url": roster_url},
        "url": link(request, f"/api/activities/{activity.id}"),
        "name": activity.name,
        "name_with_flags": name + flags,
        "name_with_flags_for_user": name + flags,
        "description": activity.description,
        "cancelled": item.cancelled,
        "favorited": activity.id in data.favorite_ids(person.pk),
        "subscribed_to": False,
        # Ion shows the subscription switch to eighth admins only.
        "subscriptions_enabled": is_eighth_admin(person),
        "roster": {
            "count": len(data.signups_of(item.id)),
            "capacity": item.capacity,
            "url": roster_url,
        },
        "rooms": list(item.rooms),
        "sponsors": list(item.sponsors),
        "restricted": activity.restricted,
        "restricted_for_user": restricted_for_user,
        "both_blocks": activity.both_blocks,
        "one_a_day": activity.one_a_day,
        "special": activity.special,
        "administrative": activity.administrative,
        "presign": activity.presign,
        "presign_time": presign_time(block),
        "sticky": activity.sticky,
        "user_sticky": False,
        "finance": "",
        "title": item.title,
        "comments": item.comments,
        "display_text": "",
        "waitlist_count": 0,
        "waitlisted": False,
        "waitlist_position": 0,
        "is_recommended": False,
    }


def signup_json(request: HttpRequest, data: IonData, signup: Signup) -> dict[str, Any]:
    item = data.scheduled_of(signup)
    block, activity = data.block_of(item), data.activity_of(item)
    return {
        "id": signup.id,
        "block": {
            "id": block.id,
            "date": block.date.isoformat(),
            "url": link(request, f"/api/blocks/{block.id}"),
            "block_letter": block.block_letter,
        },
        "activity": {
            "id": activity.id,
            "title": title_of(activity, item),
            "url": link(request, f"/api/activities/{activity.id}"),
        },
        "scheduled_activity": item.id,
        "user": signup.user,
    }


def announcement_json(request: HttpRequest, item: Announcement) -> dict[str, Any]:
    return {
        "url": link(request, f"/api/announcements/{item.id}"),
        "id": item.id,
        "title": item.title,
        "content": item.content,
        "author": item.author,
        "user": item.user,
        "added": item.added,
        "updated": item.updated,
        "groups": list(item.groups),
        "pinned": item.pinned,
    }


def activity_link(request: HttpRequest, activity: Activity) -> dict[str, Any]:
    return {
        "id": activity.id,
        "url": link(request, f"/api/activities/{activity.id}"),
        "name": activity.name,
    }


# -- views -------------------------------------------------------------------------------

ROOT_ENTRIES: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = (
    (
        "Schedule",
        (
            ("/schedule", "Get today's schedule", "/schedule"),
            (
                "/schedule?page_size=<num>",
                "Get the schedule for the next <num> days",
                "/schedule?page_size=7",
            ),
            (
                "/schedule/<date>",
                "Get the schedule for a specific day, in YYYY-MM-DD format",
                "/schedule/2016-04-04",
            ),
        ),
    ),
    (
        "Announcements",
        (
            ("/announcements", "List announcements", "/announcements"),
            ("/announcements/<pk>", "Get announcement details", "/announcements/2999"),
        ),
    ),
    (
        "Emergency Announcements",
        (("/emerg", "Get FCPS emergency announcement information", "/emerg"),),
    ),
    (
        "Profile",
        (
            ("/profile", "Get current user profile", "/profile"),
            ("/profile/<pk>", "Get specific user profile by user ID", "/profile/489"),
            (
                "/profile/<username>",
                "Get specific user profile by username",
                "/profile/2017ewang",
            ),
            (
                "/profile/<pk>/picture",
                "Get a specific user's profile picture by user ID",
                "/profile/489/picture",
            ),
            (
                "/profile/<username>/picture",
                "Get a specific user's profile picture by username",
                "/profile/2017ewang/picture",
            ),
        ),
    ),
    (
        "Search",
        (
            (
                "/search/<query>",
                "Search users (see {root}/search?tips for advanced search documentation)",
                "/search/last:Kim",
            ),
        ),
    ),
    (
        "Blocks",
        (
            ("/blocks", "List all blocks this year (paginated)", "/blocks"),
            (
                "/blocks?start_date=<start_date>",
                "List all blocks starting on the specified date (in YYYY-MM-DD format; paginated)",
                "/blocks?start_date=2015-11-18",
            ),
            (
                "/blocks?date=<date>",
                "List all blocks on the specified date (in YYYY-MM-DD format)",
                "/blocks?date=2015-11-18",
            ),
            ("/blocks/<pk>", "Get a list of activities on a block", "/blocks/3030"),
        ),
    ),
    (
        "Activities",
        (
            ("/activities", "List all eighth period activities", "/activities"),
            (
                "/activities/<pk>",
                "Get details for a specific eighth period activity "
                "(including some scheduling information)",
                "/activities/115",
            ),
        ),
    ),
    (
        "Signups",
        (
            (
                "/signups/user",
                "List eighth signups for the current user, or sign up the current user for an "
                "activity",
                "/signups/user",
            ),
            (
                "/signups/user/<user_id>",
                "List eighth signups for a specific user",
                "/signups/user/8889",
            ),
            (
                "/signups/user/favorites",
                "List favorited eighth activities for current user, or toggle whether an "
                "activity is favorited",
                "/signups/user/favorites",
            ),
            (
                "/signups/scheduled_activity/<scheduled_activity_id>",
                "List eighth signups for a specific scheduled activity",
                "/signups/scheduled_activity/889",
            ),
        ),
    ),
    (
        "Bus",
        (
            ("/bus", "Get list of bus routes", "/bus"),
            ("/bus/<pk>", "Get information about a specific bus route", "/bus/3"),
        ),
    ),
)


@endpoint(["GET"], title="Api Root", anonymous=["GET"], allow="OPTIONS, GET")
def api_root(request: HttpRequest, person: Person | None, data: IonData) -> Any:
    """``/api``: Ion's directory of endpoints."""
    root = request.build_absolute_uri("/").rstrip("/")
    return {
        section: {
            key: [text.format(root=root), f"{root}/api{example}"] for key, text, example in rows
        }
        for section, rows in ROOT_ENTRIES
    }


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Ion's "Page Not Found" page, for any path it does not know."""
    page = (
        "<!DOCTYPE html><html><head><title>Ion - Error</title></head>"
        "<body><h1>Page Not Found</h1></body></html>"
    )
    return HttpResponse(page, status=404, content_type="text/html; charset=utf-8")


def find_person(ref: str) -> Person:
    """A person by id or by username (case-insensitive)."""
    person: Person | None = (
        Person.objects.filter(pk=int(ref)).first()
        if ref.isdigit()
        else Person.objects.filter(user__username__iexact=ref).first()
    )
    if person is None:
        raise does_not_exist()
    return person


@endpoint(["GET"], title="Profile Detail", counter="profile_requests")
def own_profile(request: HttpRequest, person: Person, data: IonData) -> Any:
    """``/api/profile``: the caller's own profile (counted for ``/sandbox/stats``)."""
    return profile_of(request, person, person)


@endpoint(["GET"], title="Profile Detail")
def profile_detail(request: HttpRequest, person: Person, data: IonData, ref: str) -> Any:
    """``/api/profile/<id or username>``."""
    return profile_of(request, person, find_person(ref))


def placeholder_png() -> bytes:
    """A plain 172x228 PNG, like the default picture Ion sends (labelled as a JPEG)."""
    width, height = 172, 228
    row = b"\x00" + bytes((0xDF, 0xE6, 0xEE)) * width
    raw = zlib.compress(row * height, 9)

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def accepts_jpeg(request: HttpRequest) -> bool:
    """Whether any type the request accepts is a JPEG (Ion's picture view renders nothing
    else): a browser's ``text/html,...,*/*;q=0.8`` does, ``application/json`` does not."""
    accept = request.headers.get("Accept", "") or "*/*"
    kinds = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    return bool(kinds & {"image/jpeg", "image/*", "*/*"})


PICTURE = placeholder_png()
PICTURE_YEARS = ("freshman", "sophomore", "junior", "senior")


@csrf_exempt
def picture(request: HttpRequest, ref: str, year: str | None = None) -> HttpResponse:
    """``/api/profile/<id or username>/picture[/<year>]``: Ion's default picture, a PNG
    labelled ``image/jpeg``; errors are the bare word ``detail`` or ``details``, labelled
    ``image/jpg``, because Ion renders them with its JPEG renderer."""

    def error(status: int, word: str) -> HttpResponse:
        response = HttpResponse(word, status=status, content_type="image/jpg")
        response["Allow"] = "GET, HEAD, OPTIONS"
        response["Vary"] = "origin, Authorization, Cookie"
        return response

    if not accepts_jpeg(request):
        return error(406, "detail")
    if request.method not in READ:
        return error(405, "detail")
    if requester(request) is None:
        return error(403, "detail")
    if year is not None and year not in PICTURE_YEARS:
        return error(404, "detail")
    try:
        find_person(ref)
    except ApiError:
        return error(404, "details")
    response = HttpResponse(PICTURE, content_type="image/jpeg")
    response["Allow"] = "GET, HEAD, OPTIONS"
    response["Vary"] = "origin, Authorization, Cookie"
    return response


def search_matches(person: Person, terms: list[str]) -> bool:
    profile = person.profile
    fields = {
        "first": profile.get("first_name", ""),
        "last": profile.get("last_name", ""),
        "nick": profile.get("nickname") or "",
        "type": profile.get("user_type", ""),
        "username": profile.get("ion_username", ""),
        "grade": str((profile.get("grade") or {}).get("number", "")),
    }
    for term in terms:
        key, sep, value = term.partition(":")
        if sep and key in fields:
            if fields[key].lower() != value.lower() and not (
                key in ("first", "last", "nick") and fields[key].lower().startswith(value.lower())
            ):
                return False
        elif not any(term.lower() in str(v).lower() for v in fields.values()):
            return False
    return True


@endpoint(["GET"], title="Search")
def search(request: HttpRequest, person: Person, data: IonData, query: str) -> Any:
    """``/api/search/<query>``: words match names and usernames; ``last:``, ``first:``,
    ``type:``, ``grade:`` match one field."""
    terms = query.split()
    found = [p for p in Person.objects.order_by("pk") if search_matches(p, terms)]

    def entry(found: Person) -> dict[str, Any]:
        profile = found.profile
        item = {
            "id": found.pk,
            "url": request.build_absolute_uri(f"/api/profile/{found.pk}"),
            "user_type": profile.get("user_type", ""),
            "username": profile.get("ion_username", ""),
            "full_name": profile.get("full_name", ""),
            "first_name": profile.get("first_name", ""),
            "last_name": profile.get("last_name", ""),
        }
        if profile.get("user_type") == "student":
            item["grade"] = profile.get("grade")
        return item

    return paginate(request, found, entry)


@endpoint(["GET"], title="Day List", anonymous=["GET"])
def schedule(request: HttpRequest, person: Person | None, data: IonData) -> Any:
    """``/api/schedule``: school days from today (UTC) on, one per page (up to 7)."""
    today = api_data.today()
    days = sorted((d for d in data.days if d.date >= today), key=lambda d: d.date)
    return paginate(
        request,
        [d.date for d in days],
        lambda date: day_json(request, data, date),
        page_size=1,
        max_page_size=7,
    )


@endpoint(["GET"], title="Day Detail", anonymous=["GET"])
def schedule_day(request: HttpRequest, person: Person | None, data: IonData, date: str) -> Any:
    """``/api/schedule/<YYYY-MM-DD>``; a day without school is ``NO SCHOOL<br>``."""
    try:
        day = datetime.date.fromisoformat(date) if len(date) == 10 else None
    except ValueError:
        day = None
        if len(date) == 10 and date[4] == "-" and date[7] == "-":
            raise ApiError(
                400,
                [
                    f"['“{date}” value has the correct format (YYYY-MM-DD) but it is an "
                    "invalid date.']"
                ],
            ) from None
    if day is None:
        raise ApiError(
            400,
            [f"['“{date}” value has an invalid date format. It must be in YYYY-MM-DD format.']"],
        )
    return day_json(request, data, day)


def block_list_item(request: HttpRequest, block: Block) -> dict[str, Any]:
    return {
        "id": block.id,
        "url": link(request, f"/api/blocks/{block.id}"),
        "date": block.date.isoformat(),
        "block_letter": block.block_letter,
        "locked": block.locked,
    }


@endpoint(["GET"], title="Eighth Block List")
def blocks(request: HttpRequest, person: Person, data: IonData) -> Any:
    """``/api/blocks``: this school year's blocks, or ``?date=`` / ``?start_date=``."""
    on, start = date_param(request, "date"), date_param(request, "start_date")
    if on is not None:
        chosen = [b for b in data.blocks if b.date == on]
    elif start is not None:
        chosen = [b for b in data.blocks if b.date >= start]
    else:
        first, last = school_year(api_data.today())
        chosen = [b for b in data.blocks if first <= b.date < last]
    chosen.sort(key=lambda b: (b.date, b.block_letter, b.id))
    return paginate(request, chosen, lambda b: block_list_item(request, b), max_page_size=200)


@endpoint(["GET"], title="Eighth Block Detail")
def block_detail(request: HttpRequest, person: Person, data: IonData, block_id: int) -> Any:
    """``/api/blocks/<id>``: the block's activities keyed by activity id."""
    block = data.block(block_id)
    if block is None:
        raise not_found("Not found.")

    def order(item: ScheduledActivity) -> tuple[bool, str]:
        activity = data.activity_of(item)
        return (activity.administrative, activity.name)

    return {
        "id": block.id,
        "activities": {
            str(item.activity): block_activity(request, data, person, block, item)
            for item in sorted(data.scheduled_in(block.id), key=order)
        },
        "date": block.date.isoformat(),
        "block_letter": block.block_letter,
        "comments": block.comments,
    }


@endpoint(["GET"], title="Eighth Activity List")
def activities(request: HttpRequest, person: Person, data: IonData) -> Any:
    """``/api/activities``: every activity, by id."""
    chosen = sorted(data.activities, key=lambda a: a.id)
    return paginate(request, chosen, lambda a: activity_link(request, a))


@endpoint(["GET"], title="Eighth Activity Detail")
def activity_view(request: HttpRequest, person: Person, data: IonData, activity_id: int) -> Any:
    """``/api/activities/<id>``."""
    activity = data.activity(activity_id)
    if activity is None:
        raise not_found("No EighthActivity matches the given query.")
    return activity_detail(request, data, activity)


def signups_for(request: HttpRequest, data: IonData, user_id: int) -> list[dict[str, Any]]:
    """A person's signups this school year (or ``?date=`` / ``?start_date=``)."""
    on, start = date_param(request, "date"), date_param(request, "start_date")
    first, last = school_year(api_data.today())
    rows = []
    for signup in data.signups:
        if signup.user != user_id:
            continue
        block = data.block_of(data.scheduled_of(signup))
        if on is not None:
            keep = block.date == on
        elif start is not None:
            keep = block.date >= start
        else:
            keep = first <= block.date < last
        if keep:
            rows.append((block.date, block.block_letter, signup))
    rows.sort(key=lambda row: row[:2])
    return [signup_json(request, data, signup) for _, _, signup in rows]


def refusals(data: IonData, target: Person, item: ScheduledActivity) -> list[str]:
    """Why ``target`` may not join ``item`` (sorted by Ion's error names), or nothing."""
    activity, block = data.activity_of(item), data.block_of(item)
    if not target.profile.get("is_student"):
        return [REFUSALS["NotAStudent"]]
    errors = []
    members = data.signups_of(item.id)
    already = any(s.user == target.pk for s in members)
    if item.cancelled:
        errors.append("ScheduledActivityCancelled")
    if block.locked:
        errors.append("BlockLocked")
    if activity.restricted and target.pk not in activity.authorized:
        errors.append("Restricted")
    if not already and len(members) >= item.capacity:
        errors.append("ActivityFull")
    for signup in data.signups:
        current = data.scheduled_of(signup)
        mine = signup.user == target.pk and current.block == item.block
        if mine and current.id != item.id and data.activity_of(current).sticky:
            errors.append("Sticky")
    return [REFUSALS[name] for name in sorted(set(errors))]


def sign_up(request: HttpRequest, person: Person, data: IonData, target: Person) -> tuple[int, Any]:
    """POST to ``/api/signups/user[/<id>]``: Ion answers 201 with the activity's detail."""
    fields = request_fields(request)
    item = pk_field(fields, "scheduled_activity", data.scheduled)
    block = pk_field(fields, "block", data.block)
    activity = pk_field(fields, "activity", data.activity)
    use_scheduled = boolean(fields.get("use_scheduled_activity", True))
    if not (item is not None and use_scheduled):
        if block is None or activity is None:
            raise ApiError(400, {"non_field_errors": [NEEDS_BLOCK_AND_ACTIVITY]})
        item = next((s for s in data.scheduled_in(block.id) if s.activity == activity.id), None)
        if item is None:
            raise does_not_exist()
    force = boolean(fields.get("force", False))
    if force and not is_eighth_admin(person):
        raise ApiError(400, {"error": "You are not an administrator."})
    if not force:
        refused = refusals(data, target, item)
        if refused:
            raise ApiError(400, {"details": refused})
    kept = []
    for signup in data.signups:
        in_block = data.scheduled_of(signup).block == item.block
        if signup.user == target.pk and in_block and signup.scheduled_activity != item.id:
            continue
        kept.append(signup)
    if not any(s.user == target.pk and s.scheduled_activity == item.id for s in kept):
        kept.append(Signup(data.next_signup_id(), target.pk, item.id))
    data.signups[:] = kept
    return 201, activity_detail(request, data, data.activity_of(item))


@endpoint(["GET", "POST"], title="Eighth User Signup List Add")
def user_signups(request: HttpRequest, person: Person, data: IonData) -> Any:
    """``/api/signups/user``: the caller's signups, or sign the caller up."""
    if request.method == "POST":
        return sign_up(request, person, data, person)
    return signups_for(request, data, person.pk)


@endpoint(["GET", "POST"], title="Eighth User Signup List Add")
def other_user_signups(request: HttpRequest, person: Person, data: IonData, user_id: int) -> Any:
    """``/api/signups/user/<id>``: another person's signups if they show them (or the
    caller is staff); signing them up is for eighth admins."""
    if request.method == "POST":
        if not is_eighth_admin(person):
            raise ApiError(403, {"detail": NOT_PERMITTED})
        return sign_up(request, person, data, find_person(str(user_id)))
    target = find_person(str(user_id))
    if target.pk != person.pk and not is_staff(person) and target.pk not in data.public_signups:
        return []
    return signups_for(request, data, target.pk)


@endpoint(["GET", "POST"], title="Eighth User Favorites List Toggle")
def favorites(request: HttpRequest, person: Person, data: IonData) -> Any:
    """``/api/signups/user/favorites``: list, or POST ``activity`` to toggle one."""
    if request.method == "POST":
        fields = request_fields(request)
        if fields.get("activity") in (None, ""):
            raise ApiError(500, {"details": [UNKNOWN_ERROR]})
        activity = pk_field(fields, "activity", data.activity)
        mine = [f for f in data.favorites if f.user == person.pk and f.activity == activity.id]
        if mine:
            data.favorites.remove(mine[0])
        else:
            data.favorites.append(api_data.Favorite(person.pk, activity.id))
        return 201, activity_detail(request, data, activity)
    chosen = [data.activity(a) for a in sorted(data.favorite_ids(person.pk))]
    return [activity_link(request, a) for a in chosen if a is not None]


@endpoint(["GET"], title="Eighth Scheduled Activity Signup List")
def roster(request: HttpRequest, person: Person, data: IonData, scheduled_id: int) -> Any:
    """``/api/signups/scheduled_activity/<id>``: students see themselves and those who
    show their signups; staff see everyone."""
    item = data.scheduled(scheduled_id)
    if item is None:
        raise does_not_exist()
    block, activity = data.block_of(item), data.activity_of(item)
    signups = data.signups_of(item.id)
    members = []
    for signup in signups:
        if is_staff(person) or signup.user == person.pk or signup.user in data.public_signups:
            member = Person.objects.filter(pk=signup.user).first()
            if member is not None:
                members.append(
                    {
                        "id": member.pk,
                        "full_name": member.profile.get("full_name", ""),
                        "username": member.profile.get("ion_username", ""),
                        "url": request.build_absolute_uri(f"/api/profile/{member.pk}"),
                    }
                )
    title = title_of(activity, item)
    return {
        "id": item.id,
        "name": title,
        "block": {
            "id": block.id,
            "date": block.date.isoformat(),
            "url": link(request, f"/api/blocks/{block.id}"),
        },
        "activity": {
            "id": activity.id,
            "title": title,
            "url": link(request, f"/api/activities/{activity.id}"),
        },
        "signups": {"members": members, "count": len(signups), "viewable_count": len(members)},
        "capacity": item.capacity,
    }


def visible_announcements(data: IonData, person: Person) -> list[Announcement]:
    """Pinned first, then newest; group-restricted ones only for their groups' members."""
    groups = data.in_groups(person.pk)
    admin = person.pk in data.announcement_admins
    shown = [a for a in data.announcements if admin or not a.groups or groups & set(a.groups)]
    shown.sort(key=lambda a: a.added, reverse=True)
    shown.sort(key=lambda a: not a.pinned)
    return shown


def now_stamp() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def announcement_fields(request: HttpRequest, item: Announcement, partial: bool) -> None:
    fields = request_fields(request)
    errors = {}
    for name in ("title", "content"):
        if name in fields:
            setattr(item, name, str(fields[name]))
        elif not partial:
            errors[name] = ["This field is required."]
    if errors:
        raise ApiError(400, errors)
    if "pinned" in fields:
        item.pinned = boolean(fields["pinned"])
    if "author" in fields:
        item.author = str(fields["author"])
    item.updated = now_stamp()


@endpoint(["GET", "POST"], title="Announcement List")
def announcements(request: HttpRequest, person: Person, data: IonData) -> Any:
    """``/api/announcements``: what the caller may see; POST is for announcement admins."""
    if request.method == "POST":
        if person.pk not in data.announcement_admins:
            raise ApiError(403, {"detail": NOT_PERMITTED})
        stamp = now_stamp()
        number = max((a.id for a in data.announcements), default=0) + 1
        item = Announcement(number, "", "", "", person.pk, stamp, stamp)
        announcement_fields(request, item, partial=False)
        data.announcements.append(item)
        return 201, announcement_json(request, item)
    return paginate(
        request,
        visible_announcements(data, person),
        lambda a: announcement_json(request, a),
    )


@endpoint(["GET", "PUT", "PATCH", "DELETE"], title="Announcement Detail")
def announcement(request: HttpRequest, person: Person, data: IonData, announcement_id: int) -> Any:
    """``/api/announcements/<id>``: 404 for one the caller may not see."""
    item = next((a for a in visible_announcements(data, person) if a.id == announcement_id), None)
    if request.method != "GET" and person.pk not in data.announcement_admins:
        raise ApiError(403, {"detail": NOT_PERMITTED})
    if item is None:
        raise not_found("No Announcement matches the given query.")
    if request.method == "DELETE":
        data.announcements.remove(item)
        return 204, None
    if request.method in ("PUT", "PATCH"):
        announcement_fields(request, item, partial=request.method == "PATCH")
    return announcement_json(request, item)


def bus_json(route: api_data.BusRoute) -> dict[str, Any]:
    return {
        "id": route.id,
        "route_name": route.route_name,
        "space": route.space,
        "bus_number": route.bus_number,
        "status": route.status,
    }


@endpoint(["GET"], title="Route List")
def bus(request: HttpRequest, person: Person, data: IonData) -> Any:
    """``/api/bus``: bus routes by name."""
    return paginate(request, sorted(data.bus_routes, key=lambda r: r.route_name), bus_json)


@endpoint(["GET"], title="Route Detail")
def bus_route(request: HttpRequest, person: Person, data: IonData, route_id: int) -> Any:
    """``/api/bus/<id>``."""
    route = next((r for r in data.bus_routes if r.id == route_id), None)
    if route is None:
        raise not_found("No Route matches the given query.")
    return bus_json(route)


@endpoint(["GET"], title="Emerg", anonymous=["GET"], allow="OPTIONS, GET")
def emergency(request: HttpRequest, person: Person | None, data: IonData) -> Any:
    """``/api/emerg``: FCPS's emergency status (a sandbox control endpoint sets it)."""
    return {"status": data.emergency.status, "message": data.emergency.message}


# -- control endpoints ---------------------------------------------------------------------


@control_endpoint
@require_POST
def set_emergency(request: HttpRequest) -> HttpResponse:
    """``POST /sandbox/emergency`` ``{"status": true, "message": "<h3>...</h3>"}``: what
    ``/api/emerg`` answers from now on (``{"status": false, "message": ""}``: no emergency;
    ``message: null`` is what Ion sends when it could not reach FCPS)."""
    try:
        fields = json.loads(request.body or b"{}")
        emergency = api_data.Emergency(**fields)
    except (ValueError, TypeError) as error:
        message = {"detail": f"Expected {{'status': bool, 'message': str or null}}: {error}"}
        return HttpResponse(json.dumps(message), status=400, content_type="application/json")
    if not isinstance(emergency.status, bool) or not isinstance(
        emergency.message, (str, type(None))
    ):
        message = {"detail": "Expected {'status': bool, 'message': str or null}."}
        return HttpResponse(json.dumps(message), status=400, content_type="application/json")
    data = api_data.current()
    with data.lock:
        data.emergency = emergency
    body = {"status": emergency.status, "message": emergency.message}
    return HttpResponse(json.dumps(body), content_type="application/json")


@control_endpoint
@require_POST
def reset_api_data(request: HttpRequest) -> HttpResponse:
    """``POST /sandbox/api/reset``: the API data the sandbox started with, signups, favorites,
    announcements and emergency included (the demo data is dated from today again)."""
    data = api_data.reset()
    body = {"blocks": len(data.blocks), "signups": len(data.signups)}
    return HttpResponse(json.dumps(body), content_type="application/json")
