"""Every exchange recorded from a real Ion's REST API, replayed against the sandbox.

The sandbox is seeded with the recording's objects (``tests/fixtures/ion/api_seed.json``
and ``api_people.json``) and its clock set to the recording's UTC date; the exchanges are
replayed in the order they were recorded, since signups and favorites change what later
ones see. Each answer must match the recording in status, content type and body: the
same keys in the same order, the same values, except that the host is the sandbox's and
timestamps are compared by format (ids match by seeding, timestamps never do).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from ion_oauth.testing import IonSandbox

RECORDINGS = Path(__file__).parent.parent / "fixtures" / "ion" / "api"
FIXTURES = Path(__file__).parent.parent / "fixtures" / "ion"
ION = "http://127.0.0.1:8080"
DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")

#: Recorded exchanges the sandbox cannot reproduce, and why.
UNMATCHABLE = {
    "post_signups_user_full_activity_waitlist_enabled": (
        "recorded on a server with ENABLE_WAITLIST=True; the sandbox runs with Ion's default "
        "(False) and answers as post_signups_user_full_activity_waitlist_disabled does"
    ),
}
#: Exchanges whose recorded body is a summary of an HTML page: compared by title only,
#: since the sandbox's stand-in for Ion's pages is not Ion's markup.
TITLE_ONLY = {"_html"}
#: Ion's 404 page for unknown paths is its site template; the sandbox's has the same title.


def load(name: str) -> dict[str, Any]:
    return json.loads((RECORDINGS / f"{name}.json").read_text())  # type: ignore[no-any-return]


def replay_order() -> list[str]:
    """Recording order; within one second, a name with ``after`` comes last."""
    names = [path.stem for path in RECORDINGS.glob("*.json")]
    return sorted(names, key=lambda n: (load(n)["recorded_at"], "after" in n, n))


@pytest.fixture(scope="module")
def seeded() -> Iterator[IonSandbox]:
    args = [
        "--data",
        str(FIXTURES / "api_seed.json"),
        "--people",
        str(FIXTURES / "api_people.json"),
        "--today",
        "2026-12-02",
    ]
    with IonSandbox(args=args) as sandbox:
        yield sandbox


@pytest.fixture
def tokens(seeded: IonSandbox, sign_in: Any) -> dict[tuple[str, str], str]:
    """Access tokens for each (person, scope) the recording used."""
    people = {"student": 1, "teacher": 2, "admin": 3}
    result = {}
    for who, scope in [
        ("student", "read"),
        ("student", "read write"),
        ("teacher", "read write"),
        ("admin", "read write"),
    ]:
        result[(who, scope)] = sign_in(seeded, people[who], scope)["access_token"]
    return result


def normalize(value: Any, host: str) -> Any:
    """Dicts as (key, value) lists (so key order counts), hosts replaced, timestamps by
    format."""
    if isinstance(value, dict):
        return [(key, normalize(item, host)) for key, item in value.items()]
    if isinstance(value, list):
        return [normalize(item, host) for item in value]
    if isinstance(value, str):
        if DATETIME.match(value):
            return "<datetime>"
        return value.replace(host, "<host>")
    return value


def send(sandbox: IonSandbox, exchange: dict[str, Any], tokens: dict[Any, str]) -> Any:
    request = exchange["request"]
    headers = dict(request.get("headers", {}))
    if request["as"] != "anonymous":
        headers["Authorization"] = f"Bearer {tokens[(request['as'], request['scope'])]}"
    elif request["scope"] == "garbage token":
        headers["Authorization"] = "Bearer garbage"
    if "Origin" in headers:
        headers["Origin"] = "http://127.0.0.1:8000"
    return requests.request(
        request["method"],
        sandbox.url + request["path"],
        headers=headers,
        json=request.get("json"),
        data=request.get("form"),
        timeout=10,
    )


def test_every_recording_is_replayed_or_explained() -> None:
    names = set(replay_order())

    assert len(names) == 141
    assert set(UNMATCHABLE) <= names


def test_sandbox_answers_every_recorded_exchange_as_ion(
    seeded: IonSandbox, tokens: dict[Any, str]
) -> None:
    mismatches = []
    for name in replay_order():
        exchange = load(name)
        response = send(seeded, exchange, tokens)
        if name in UNMATCHABLE:
            continue
        found = compare(name, exchange, response, seeded.url)
        if found:
            mismatches.append(found)

    assert not mismatches, "\n\n".join(mismatches)


def difference(got: Any, want: Any, where: str = "") -> str:
    """Where two normalized bodies first differ, and how."""
    if type(got) is not type(want):
        return f"{where or '/'}: {got!r} (sandbox) vs {want!r} (Ion)"
    if isinstance(want, list):
        if want and isinstance(want[0], tuple):
            got_keys, want_keys = [k for k, _ in got], [k for k, _ in want]
            if got_keys != want_keys:
                return f"{where or '/'}: keys {got_keys} (sandbox) vs {want_keys} (Ion)"
            for (key, a), (_, b) in zip(got, want, strict=True):
                if a != b:
                    return difference(a, b, f"{where}/{key}")
        if len(got) != len(want):
            return f"{where or '/'}: {len(got)} items (sandbox) vs {len(want)} (Ion)"
        for index, (a, b) in enumerate(zip(got, want, strict=True)):
            if a != b:
                return difference(a, b, f"{where}/{index}")
    return f"{where or '/'}: {got!r} (sandbox) vs {want!r} (Ion)"


def compare(name: str, exchange: dict[str, Any], response: Any, host: str) -> str | None:
    """What differs between the recorded exchange and the sandbox's answer, if anything."""
    recorded = exchange["body"]
    content_type = exchange["headers"].get("Content-Type")
    problems = []
    if response.status_code != exchange["status"]:
        problems.append(f"status {response.status_code} != {exchange['status']}")
    if response.headers.get("Content-Type") != content_type:
        problems.append(f"content type {response.headers.get('Content-Type')} != {content_type}")
    for header in ("Allow",):
        if exchange["headers"].get(header) != response.headers.get(header):
            problems.append(
                f"{header} {response.headers.get(header)!r} != {exchange['headers'].get(header)!r}"
            )
    if isinstance(recorded, dict) and recorded.get("_html"):
        title = re.search(r"<title>(.*?)</title>", response.text, re.S)
        got = title.group(1).strip() if title else None
        if got != recorded["title"]:
            problems.append(f"HTML title {got!r} != {recorded['title']!r}")
    elif isinstance(recorded, dict) and recorded.get("_binary"):
        magic = response.content[:8].hex()
        if magic != recorded["magic_hex"]:
            problems.append(f"image starts {magic} != {recorded['magic_hex']}")
    elif isinstance(recorded, dict) and "_text" in recorded:
        if response.text != recorded["_text"]:
            problems.append(f"text {response.text!r} != {recorded['_text']!r}")
    else:
        try:
            body = response.json()
        except ValueError:
            body = response.text
        want = normalize(json.loads(json.dumps(recorded)), ION)
        got = normalize(body, host)
        if got != want:
            problems.append(f"body differs at {difference(got, want)}")
    if problems:
        return f"{name}: " + "; ".join(problems)
    return None
