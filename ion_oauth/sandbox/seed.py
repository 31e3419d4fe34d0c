"""Demo people and OAuth2 clients: created on the first start, kept in line on every start."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.db import transaction
from oauth2_provider.models import get_application_model

from ion_oauth.sandbox.models import PROFILE_KEYS, Person

DEFAULT_CLIENT_ID = "ion-sandbox-client"
DEFAULT_CLIENT_SECRET = "ion-sandbox-secret"  # noqa: S105 - a published demo credential
DEFAULT_OIDC_CLIENT_ID = "ion-sandbox-oidc"
DEFAULT_OIDC_CLIENT_SECRET = "ion-sandbox-oidc-secret"  # noqa: S105
_HOSTS = ("http://127.0.0.1:8000", "http://localhost:8000")
DEFAULT_REDIRECT_URIS = tuple(f"{h}/complete/ion{s}" for h in _HOSTS for s in ("/", ""))
DEFAULT_OIDC_REDIRECT_URIS = tuple(f"{h}/complete/ion-oidc{s}" for h in _HOSTS for s in ("/", ""))

#: The demo people, with fixed ids; the student and the teacher are the ones
#: recorded from a real Ion (tests/fixtures/ion/profile_*.json).
DEMO_PEOPLE: tuple[dict[str, Any], ...] = (
    {
        "id": 1,
        "ion_username": "2027jdoe",
        "first_name": "John",
        "last_name": "Doe",
        "user_type": "student",
        "graduation_year": 2027,
        # Fixed rather than computed from today, so the demo stays byte-compatible with
        # the recorded profile after graduation day.
        "grade": {"number": 12, "name": "senior"},
    },
    {
        "id": 2,
        "ion_username": "msmith",
        "title": "ms",
        "first_name": "Mary",
        "last_name": "Smith",
        "user_type": "teacher",
        "student_id": None,
    },
    {
        "id": 3,
        "ion_username": "eadmin",
        "title": "ms",
        "first_name": "Eve",
        "last_name": "Admin",
        "user_type": "teacher",
        "student_id": None,
        "is_eighth_admin": True,
        "groups": ["admin_eighth"],
    },
    # Two more students for eighth period: Alex shows their signups to other students,
    # Brian does not.
    {
        "id": 4,
        "ion_username": "2028alee",
        "first_name": "Alex",
        "last_name": "Lee",
        "user_type": "student",
        "graduation_year": 2028,
        "grade": {"number": 11, "name": "junior"},
        "student_id": 1800123,
    },
    {
        "id": 5,
        "ion_username": "2029bkim",
        "first_name": "Brian",
        "last_name": "Kim",
        "user_type": "student",
        "graduation_year": 2029,
        "grade": {"number": 10, "name": "sophomore"},
        "student_id": 1900456,
    },
)

_STR, _OPT_STR, _OPT_INT, _BOOL = (str,), (str, type(None)), (int, type(None)), (bool,)
#: What a ``--people`` entry may carry, and the types each key accepts.
PERSON_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (int,),
    "ion_username": _STR,
    "sex": _STR,
    "title": _OPT_STR,
    "display_name": _STR,
    "full_name": _STR,
    "short_name": _STR,
    "first_name": _STR,
    "last_name": _STR,
    "nickname": _OPT_STR,
    "tj_email": _STR,
    "student_id": _OPT_INT,
    "grade": (dict,),
    "graduation_year": _OPT_INT,
    "user_type": _STR,
    "counselor": (dict, type(None)),
    "administrator": (dict, type(None)),
    "is_eighth_admin": _BOOL,
    "is_teacher": _BOOL,
    "is_student": _BOOL,
    "groups": (list,),
    "is_sysadmin": _BOOL,
}
REQUIRED_FIELDS = ("ion_username", "first_name", "last_name")
GRADE_NAMES = {9: "freshman", 10: "sophomore", 11: "junior", 12: "senior"}
GRADUATE = {"number": 13, "name": "graduate"}


def grade_for(graduation_year: int | None, today: datetime.date) -> dict[str, Any]:
    """Ion's ``grade`` for a class; staff and former students count as graduates."""
    if graduation_year is None:
        return dict(GRADUATE)
    # The school year turns over in the summer: from July on, next June's class are seniors.
    seniors = today.year + (1 if today.month >= 7 else 0)
    number = 12 - (graduation_year - seniors)
    if number > 12:
        return dict(GRADUATE)
    return {"number": number, "name": GRADE_NAMES.get(number, "")}


@dataclass
class PersonSpec:
    """A person ready to store: Ion id (None: the next free one), profile, OIDC extras."""

    id: int | None
    profile: dict[str, Any]
    groups: list[str] = field(default_factory=list)
    is_sysadmin: bool = False


def person_spec(data: Mapping[str, Any]) -> PersonSpec:
    """Check one ``--people`` entry and fill in what Ion would derive.

    Raises ValueError naming the person and the key when an entry is malformed.
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"each person must be a JSON object, not {type(data).__name__}")
    who = data.get("ion_username", data.get("id", "?"))
    unknown = sorted(set(data) - set(PERSON_FIELDS))
    if unknown:
        raise ValueError(f"person {who}: unknown keys {', '.join(unknown)}")
    missing = [key for key in REQUIRED_FIELDS if key not in data]
    if missing:
        raise ValueError(f"person {who}: missing {', '.join(missing)}")
    for key, value in data.items():
        # bool is an int to Python, but not an id or a year to Ion.
        if not isinstance(value, PERSON_FIELDS[key]) or (
            isinstance(value, bool) and bool not in PERSON_FIELDS[key]
        ):
            raise ValueError(f"person {who}: {key} has the wrong type ({value!r})")
    if data.get("id", 1) < 1:
        raise ValueError(f"person {who}: id must be 1 or more")

    user_type = data.get("user_type", "student")
    student = user_type == "student"
    name = f"{data['first_name']} {data['last_name']}"
    domain = "tjhsst.edu" if student else "fcps.edu"
    derived: dict[str, Any] = {
        "sex": "",
        "title": None,
        "display_name": name,
        "full_name": name,
        "short_name": data.get("nickname") or data["first_name"],
        "nickname": None,
        "tj_email": f"{data['ion_username']}@{domain}",
        "graduation_year": None,
        "user_type": user_type,
        "counselor": None,
        "administrator": None,
        "is_eighth_admin": False,
        "is_teacher": user_type in ("teacher", "counselor"),
        "is_student": student,
    }
    profile = {**derived, **{k: v for k, v in data.items() if k in PROFILE_KEYS}}
    if "grade" not in profile:
        profile["grade"] = grade_for(profile["graduation_year"], datetime.date.today())
    profile.pop("id", None)
    return PersonSpec(
        id=data.get("id"),
        profile=profile,
        groups=list(data.get("groups", [])),
        is_sysadmin=bool(data.get("is_sysadmin", False)),
    )


def save_person(spec: PersonSpec) -> Person:
    """Create or update the person and their Django user (username = Ion username)."""
    user_model = get_user_model()
    username = spec.profile["ion_username"]
    clash = user_model.objects.filter(username=username).exclude(pk=spec.id).first()
    if clash is not None:
        raise ValueError(f"ion_username {username} already belongs to person {clash.pk}")
    user_fields = {
        "username": username,
        "first_name": spec.profile["first_name"],
        "last_name": spec.profile["last_name"],
        "email": spec.profile["tj_email"],
    }
    with transaction.atomic():
        if spec.id is None:
            user = user_model.objects.create(**user_fields)
        else:
            user, _ = user_model.objects.update_or_create(pk=spec.id, defaults=user_fields)
        person: Person
        person, _ = Person.objects.update_or_create(
            user=user,
            defaults={
                "profile": spec.profile,
                "groups": spec.groups,
                "is_sysadmin": spec.is_sysadmin,
            },
        )
    return person


def seed_people(people: Iterable[Mapping[str, Any]]) -> list[Person]:
    """Check every entry first, then store them all (a bad file changes nothing)."""
    specs = [person_spec(data) for data in people]
    with transaction.atomic():
        return [save_person(spec) for spec in specs]


def ensure_demo_people() -> None:
    """Create the demo people that are missing; edits made to existing ones are kept."""
    missing = [p for p in DEMO_PEOPLE if not Person.objects.filter(pk=p["id"]).exists()]
    seed_people(missing)


@dataclass(frozen=True)
class ClientSpec:
    """One confidential authorization-code client as the sandbox registers it."""

    client_id: str
    client_secret: str
    name: str
    redirect_uris: Sequence[str]
    oidc: bool = False


def ensure_client(spec: ClientSpec) -> Any:
    """Create the client or bring it in line with ``spec``, keeping redirect URIs added earlier."""
    application_model = get_application_model()
    app = application_model.objects.filter(client_id=spec.client_id).first()
    if app is None:
        app = application_model(client_id=spec.client_id)
    uris = list(dict.fromkeys([*app.redirect_uris.split(), *spec.redirect_uris]))
    app.name = spec.name
    # Kept in clear text so the CLI can print it and token requests skip a slow hash.
    app.hash_client_secret = False
    app.client_secret = spec.client_secret
    app.client_type = application_model.CLIENT_CONFIDENTIAL
    app.authorization_grant_type = application_model.GRANT_AUTHORIZATION_CODE
    app.redirect_uris = " ".join(uris)
    app.algorithm = (
        application_model.RS256_ALGORITHM if spec.oidc else application_model.NO_ALGORITHM
    )
    if spec.oidc:
        # RP-initiated logout may return to the site a redirect URI belongs to.
        roots = [f"{part.scheme}://{part.netloc}/" for part in map(urlsplit, uris)]
        known = app.post_logout_redirect_uris.split()
        app.post_logout_redirect_uris = " ".join(dict.fromkeys([*known, *roots]))
    app.skip_authorization = False
    app.save()
    return app
