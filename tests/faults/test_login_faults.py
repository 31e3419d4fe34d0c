"""Every way Ion can fail during a login ends on the login-error page, and changes nothing.

Ion is a real HTTP server on loopback (:mod:`faults.fake_ion`) that breaks one endpoint
at a time: the token exchange or ``/api/profile``. For every fault: the callback
redirects to ``LOGIN_ERROR_URL`` (never a 500), that page shows one clear message,
``ion_oauth`` logs one warning without any secret, no user or social row appears, and
an existing user whose repeat login fails keeps their stored tokens and fields.
"""

from __future__ import annotations

import html
import json
import logging
import re
import socket
import time
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from faults import fake_ion
from faults.fake_ion import PROFILE_PATH, TIMEOUT, TOKEN_PATH, Reply
from social_django.models import UserSocialAuth

from ion_oauth.transport import MAX_BODY

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Fault:
    """One way for Ion to fail, and what the person and the log must see."""

    name: str
    path: str
    reply: Reply
    message: str
    #: The one ``ion_oauth`` warning; ``{url}`` is the fake Ion's base URL.
    log: str


# -- the messages a person sees, word for word --------------------------------------------

TIMED_OUT = f"Ion did not answer within {TIMEOUT:g} seconds. Please try again in a few minutes."
UNREACHABLE = "Ion could not be reached. Please try again in a few minutes."
RATE_LIMITED_30 = "Ion is receiving too many requests. Please try again in 30 seconds."
RATE_LIMITED = "Ion is receiving too many requests. Please try again later."


def in_trouble(code: int) -> str:
    return f"Ion is having trouble right now (HTTP {code}). Please try again in a few minutes."


def unreadable(what: str) -> str:
    return f"Ion sent a {what} response this site could not read. Please try again later."


def too_large(what: str) -> str:
    return f"Ion sent an unexpectedly large {what} response. Please try again later."


def bad_field(what: str, field: str) -> str:
    return (
        f"Ion's {what} response has a missing or invalid '{field}' field. "
        "Please try again later or tell the site's administrator."
    )


# -- the catalogue ------------------------------------------------------------------------

NGINX_502 = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
ION_LOGIN_PAGE = b"<!DOCTYPE html><html><head><title>Login - TJ Intranet</title></head></html>"
HTTP_DATE = "Wed, 21 Oct 2026 07:28:00 GMT"
RECORDED_TOKEN = fake_ion.ion_fixture("token_response.json")
TOKEN_BODY = json.dumps(RECORDED_TOKEN).encode()
PROFILE_BODY = (fake_ion.FIXTURES / "profile_student.json").read_bytes()


def endpoint_faults(what: str, method: str, path: str, body: bytes) -> list[Fault]:
    """The faults any endpoint can have; ``body`` is a good answer from it."""
    timed_out = f"Ion {what} request timed out after {TIMEOUT}s: {method} {{url}}{path}"
    large = f"Ion {what} response is larger than {MAX_BODY} bytes"
    not_object = f"Ion {what} response (HTTP 200) is not a JSON object"

    def failed(detail: str) -> str:
        return f"Ion {what} request failed: {detail}"

    def fault(name: str, reply: Reply, message: str, log: str) -> Fault:
        return Fault(f"{what}: {name}", path, reply, message, log)

    latin1 = body.replace(b"}", ', "note": "Jos\xe9"}'.encode("latin-1"), 1)
    return [
        fault("slow past the timeout", fake_ion.slow(), TIMED_OUT, timed_out),
        fault(
            "stall mid-body past the timeout",
            fake_ion.stall_mid_body(body),
            TIMED_OUT,
            timed_out,
        ),
        fault(
            "drop the connection mid-body",
            fake_ion.drop_mid_body(body),
            UNREACHABLE,
            failed(f"{method} {{url}}{path}: ChunkedEncodingError"),
        ),
        fault(
            "hang up without answering",
            fake_ion.hang_up(),
            UNREACHABLE,
            failed(f"{method} {{url}}{path}: ConnectionError"),
        ),
        fault(
            "HTTP 500",
            fake_ion.status(500, b"<h1>Server Error (500)</h1>"),
            in_trouble(500),
            failed("HTTP 500 error=-"),
        ),
        fault(
            "HTTP 502 from the proxy",
            fake_ion.status(502, NGINX_502),
            in_trouble(502),
            failed("HTTP 502 error=-"),
        ),
        fault(
            "HTTP 503 with an OAuth error",
            fake_ion.json_body({"error": "temporarily_unavailable"}, 503),
            in_trouble(503),
            failed("HTTP 503 error=temporarily_unavailable"),
        ),
        fault(
            "HTTP 429 with Retry-After: 30",
            fake_ion.raw(b"{}", 429, Retry_After="30"),
            RATE_LIMITED_30,
            failed("HTTP 429 error=-"),
        ),
        fault(
            "HTTP 429 with a Retry-After date",
            fake_ion.raw(b"{}", 429, Retry_After=HTTP_DATE),
            RATE_LIMITED,
            failed("HTTP 429 error=-"),
        ),
        fault(
            "HTTP 429 without Retry-After",
            fake_ion.status(429, b"Too Many Requests", "text/plain"),
            RATE_LIMITED,
            failed("HTTP 429 error=-"),
        ),
        fault(
            "a redirect to a login page",
            fake_ion.raw(b"", 302, content_type="text/html", Location="/login/"),
            f"Ion answered the {what} request with a redirect (HTTP 302); "
            "the site's SOCIAL_AUTH_ION_BASE_URL may be wrong.",
            failed("HTTP 302 error=-"),
        ),
        fault(
            "an HTML page instead of JSON",
            fake_ion.raw(ION_LOGIN_PAGE, content_type="text/html"),
            unreadable(what),
            not_object,
        ),
        fault("truncated JSON", fake_ion.raw(body[: len(body) // 2]), unreadable(what), not_object),
        fault(
            "invalid UTF-8",
            fake_ion.raw(body.replace(b'"', b'"\xff\xfe', 1)),
            unreadable(what),
            not_object,
        ),
        fault("Latin-1 instead of UTF-8", fake_ion.raw(latin1), unreadable(what), not_object),
        fault("a JSON array", fake_ion.raw(b"[" + body + b"]"), unreadable(what), not_object),
        fault("JSON null", fake_ion.raw(b"null"), unreadable(what), not_object),
        fault(
            "oversized JSON",
            fake_ion.oversized(2 * MAX_BODY),
            too_large(what),
            large,
        ),
        fault(
            "oversized JSON without Content-Length",
            fake_ion.oversized(2 * MAX_BODY, with_length=False),
            too_large(what),
            large,
        ),
    ]


def token_field_fault(name: str, reply: Reply, field: str) -> Fault:
    """A token response with a missing or invalid ``field``."""
    return Fault(
        f"token: {name}",
        TOKEN_PATH,
        reply,
        bad_field("token", field),
        f"Ion token response has a missing or invalid '{field}' field",
    )


def profile_field_fault(name: str, field: str, value: Any) -> Fault:
    """The recorded profile with ``field`` set to ``value`` (``...`` drops it)."""
    return Fault(
        f"profile: {name}",
        PROFILE_PATH,
        fake_ion.ion_profile(**{field: value}),
        bad_field("profile", field),
        f"Ion profile response has a missing or invalid '{field}' field",
    )


FAULTS = [
    *endpoint_faults("token", "POST", TOKEN_PATH, TOKEN_BODY),
    Fault(
        "token: HTTP 401 invalid_client",
        TOKEN_PATH,
        fake_ion.json_body({"error": "invalid_client"}, 401),
        "Ion did not accept this site's client credentials. The site's administrator "
        "should check SOCIAL_AUTH_ION_KEY and SOCIAL_AUTH_ION_SECRET.",
        "Ion token request failed: HTTP 401 error=invalid_client",
    ),
    Fault(
        "token: HTTP 400 invalid_grant",
        TOKEN_PATH,
        fake_ion.json_body({"error": "invalid_grant"}, 400),
        "Ion did not accept the sign-in code: it expired or was already used. Please log in again.",
        "Ion token request failed: HTTP 400 error=invalid_grant",
    ),
    token_field_fault("no access_token", fake_ion.token_without("access_token"), "access_token"),
    token_field_fault(
        "access_token null", fake_ion.token_without(access_token=None), "access_token"
    ),
    token_field_fault(
        "access_token empty", fake_ion.token_without(access_token=""), "access_token"
    ),
    token_field_fault("a MAC token", fake_ion.token_without(token_type="mac"), "token_type"),
    token_field_fault(
        "expires_in a string", fake_ion.token_without(expires_in="36000"), "expires_in"
    ),
    token_field_fault(
        "an OAuth error with HTTP 200",
        fake_ion.json_body({"error": "invalid_request"}),
        "access_token",
    ),
    token_field_fault(
        "access_token not Latin-1",
        fake_ion.token_without(access_token="fake-ion-\u20ac-access"),
        "access_token",
    ),
    token_field_fault(
        "access_token with a line break",
        fake_ion.token_without(access_token="fake-ion-access\r\nX-Injected: 1"),
        "access_token",
    ),
    *endpoint_faults("profile", "GET", PROFILE_PATH, PROFILE_BODY),
    Fault(
        "profile: a lone surrogate escape in first_name",
        PROFILE_PATH,
        fake_ion.raw(PROFILE_BODY.replace(b'"first_name":"John"', b'"first_name":"\\ud800"')),
        unreadable("profile"),
        "Ion profile response (HTTP 200) is not a JSON object",
    ),
    Fault(
        "profile: HTTP 403 for the new token",
        PROFILE_PATH,
        fake_ion.json_body({"detail": "Authentication credentials were not provided."}, 403),
        "Ion refused the profile request (HTTP 403).",
        "Ion profile request failed: HTTP 403 error=-",
    ),
    profile_field_fault("no id", "id", ...),
    profile_field_fault("id a string", "id", "1"),
    profile_field_fault("id zero", "id", 0),
    profile_field_fault("id true", "id", True),
    profile_field_fault("id a float", "id", 1.0),
    profile_field_fault("no ion_username", "ion_username", ...),
    profile_field_fault("ion_username null", "ion_username", None),
    profile_field_fault("ion_username blank", "ion_username", "  "),
    profile_field_fault("ion_username a number", "ion_username", 2027),
    profile_field_fault("no is_student", "is_student", ...),
    profile_field_fault("is_teacher a string", "is_teacher", "false"),
    profile_field_fault("is_eighth_admin null", "is_eighth_admin", None),
    profile_field_fault("first_name a number", "first_name", 42),
    profile_field_fault("tj_email a list", "tj_email", ["2027jdoe@tjhsst.edu"]),
    profile_field_fault("graduation_year a string", "graduation_year", "2027"),
    profile_field_fault("grade a string", "grade", "senior"),
    profile_field_fault("grade number a string", "grade", {"number": "12", "name": "senior"}),
    # Values SQLite would store but PostgreSQL refuses, or that overflow Django's columns.
    profile_field_fault("a NUL in last_name", "last_name", "Doe\x00"),
    profile_field_fault("ion_username longer than 150", "ion_username", "u" * 151),
    profile_field_fault("tj_email longer than 254", "tj_email", "e" * 250 + "@tjhsst.edu"),
    profile_field_fault("id past 64 bits", "id", 2**63),
    profile_field_fault("graduation_year of five digits", "graduation_year", 20270),
]


def cases() -> list[Any]:
    """``FAULTS`` as parameters, named for the fault."""
    return [pytest.param(fault, id=fault.name) for fault in FAULTS]


# -- what every fault must do -------------------------------------------------------------


@pytest.mark.parametrize("fault", cases())
def test_the_callback_redirects_to_the_login_error_page(fault, ion, loopback_login):
    ion.replies[fault.path] = fault.reply

    response = loopback_login.attempt()

    assert (response.status_code, response["Location"]) == (302, "/login-error/")


@pytest.mark.parametrize("fault", cases())
def test_the_login_error_page_shows_the_message(fault, ion, loopback_login, client):
    ion.replies[fault.path] = fault.reply
    response = loopback_login.attempt()

    page = client.get(response["Location"])

    assert page.status_code == 200
    assert shown_messages(page) == [fault.message]


@pytest.mark.parametrize("fault", cases())
def test_no_user_and_no_social_row_is_created(fault, ion, loopback_login):
    ion.replies[fault.path] = fault.reply

    loopback_login.attempt()

    assert (get_user_model().objects.count(), UserSocialAuth.objects.count()) == (0, 0)


@pytest.mark.parametrize("fault", cases())
def test_ion_oauth_logs_one_warning_for_it(fault, ion, loopback_login, caplog):
    ion.replies[fault.path] = fault.reply

    loopback_login.attempt()

    assert ion_oauth_log(caplog) == [(logging.WARNING, fault.log.format(url=ion.url))]


@pytest.mark.parametrize("fault", cases())
def test_no_log_record_carries_a_secret(fault, ion, loopback_login, caplog, settings):
    caplog.set_level(logging.DEBUG)
    ion.replies[fault.path] = fault.reply

    loopback_login.attempt()

    secrets = ion.secrets() | recorded_secrets()
    assert settings.SOCIAL_AUTH_ION_SECRET in secrets
    assert [secret for secret in secrets if secret in caplog.text] == []


@pytest.mark.parametrize("fault", cases())
def test_an_existing_user_keeps_stored_tokens_and_fields(fault, ion, loopback_login, client):
    assert loopback_login.attempt()["Location"] == "/"
    client.logout()
    before = stored_state()
    assert before["social"][0]["extra_data"]["access_token"] == ion.issued[0]
    ion.replies[fault.path] = fault.reply

    assert loopback_login.attempt()["Location"] == "/login-error/"

    assert stored_state() == before


def test_an_unreachable_ion_ends_on_the_login_error_page(loopback_login, client, settings):
    settings.SOCIAL_AUTH_ION_BASE_URL = f"http://127.0.0.1:{closed_port()}"

    response = loopback_login.attempt()

    assert (response.status_code, response["Location"]) == (302, "/login-error/")
    assert shown_messages(client.get("/login-error/")) == [UNREACHABLE]


def test_an_unreachable_ion_is_logged_with_the_url_it_tried(loopback_login, settings, caplog):
    url = f"http://127.0.0.1:{closed_port()}"
    settings.SOCIAL_AUTH_ION_BASE_URL = url

    loopback_login.attempt()

    assert ion_oauth_log(caplog) == [
        (logging.WARNING, f"Ion token request failed: POST {url}/oauth/token/: ConnectionError")
    ]


def test_an_unreachable_ion_creates_no_user(loopback_login, settings):
    settings.SOCIAL_AUTH_ION_BASE_URL = f"http://127.0.0.1:{closed_port()}"

    loopback_login.attempt()

    assert (get_user_model().objects.count(), UserSocialAuth.objects.count()) == (0, 0)


def test_a_slow_ion_is_given_up_on_after_the_timeout(ion, loopback_login):
    """Guards the suite's speed as much as the site's: a hung Ion must not hang a login."""
    ion.replies[TOKEN_PATH] = fake_ion.slow()

    started = time.monotonic()
    loopback_login.attempt()

    assert TIMEOUT <= time.monotonic() - started < TIMEOUT + 2


# -- helpers ------------------------------------------------------------------------------


def shown_messages(page: Any) -> list[str]:
    """The error messages on the login-error page, as text."""
    found = re.findall(r'<p class="error">(.*?)</p>', page.content.decode(), re.DOTALL)
    return [html.unescape(message) for message in found]


def ion_oauth_log(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "ion_oauth"]


def recorded_secrets() -> set[str]:
    """The token values in the fault bodies themselves (truncated, stalled...)."""
    return {RECORDED_TOKEN["access_token"], RECORDED_TOKEN["refresh_token"]}


def stored_state() -> dict[str, list[Any]]:
    """Every stored field of every user and social row, and group memberships."""
    users = get_user_model().objects.order_by("pk")
    return {
        "users": list(users.values()),
        "groups": [sorted(user.groups.values_list("name", flat=True)) for user in users],
        "social": list(UserSocialAuth.objects.order_by("pk").values()),
    }


def closed_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
