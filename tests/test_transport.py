"""ion_oauth.transport: the one HTTP path, and the pure check of Ion's answers."""

from __future__ import annotations

import gzip
import json
import secrets
import socket
import sys
import threading
import time
import tracemalloc
import zlib
from types import SimpleNamespace

import pytest
import requests
import responses
import urllib3
from django.views.debug import ExceptionReporter
from urllib3.connection import HTTPSConnection

from ion_oauth import transport
from ion_oauth.conf import DEFAULTS
from ion_oauth.exceptions import IonAuthError, IonRejected, IonResponseError, IonUnavailable

URL = "https://ion.example.test/api/profile"


def check(
    status: int, body: bytes | str | dict[str, object], headers: dict[str, str] | None = None
):
    if isinstance(body, dict):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    return transport.check_response(status, body, headers or {}, what="profile")


# -- check_response, one branch per test --------------------------------------------------


def test_a_2xx_json_object_is_returned():
    assert check(200, {"id": 1}) == {"id": 1}


@pytest.mark.parametrize(
    "body",
    ["<html>Log in</html>", '{"id": 1', "[1, 2]", '"text"', b"\xff\xfe{}", ""],
    ids=["html", "truncated", "list", "string", "invalid-utf8", "empty"],
)
def test_a_2xx_body_that_is_not_a_json_object_is_a_response_error(body):
    with pytest.raises(IonResponseError) as caught:
        check(200, body)

    assert str(caught.value) == (
        "Ion sent a profile response this site could not read. Please try again later."
    )
    assert caught.value.status_code == 200


def test_deeply_nested_json_is_a_response_error_not_a_crash():
    with pytest.raises(IonResponseError):
        check(200, "[" * 100_000 + "]" * 100_000)


def test_429_is_unavailable_and_says_when_to_retry():
    with pytest.raises(IonUnavailable) as caught:
        check(429, "", {"Retry-After": "30"})

    assert (
        str(caught.value) == "Ion is receiving too many requests. Please try again in 30 seconds."
    )
    assert caught.value.retry_after == "30"


def test_429_with_an_http_date_retry_after_says_later():
    with pytest.raises(IonUnavailable) as caught:
        check(429, "", {"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"})

    assert str(caught.value) == "Ion is receiving too many requests. Please try again later."


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_unavailable(status):
    with pytest.raises(IonUnavailable) as caught:
        check(status, "<html>Bad gateway</html>")

    assert str(caught.value) == (
        f"Ion is having trouble right now (HTTP {status}). Please try again in a few minutes."
    )
    assert caught.value.status_code == status


def test_a_redirect_points_at_the_base_url_setting():
    with pytest.raises(IonResponseError) as caught:
        check(302, "")

    assert "SOCIAL_AUTH_ION_BASE_URL" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "body"),
    [(401, {"error": "invalid_client"}), (400, {"error": "invalid_client"}), (401, "")],
)
def test_client_authentication_failure_names_key_and_secret(status, body):
    with pytest.raises(IonRejected) as caught:
        check(status, body)

    assert "SOCIAL_AUTH_ION_KEY and SOCIAL_AUTH_ION_SECRET" in str(caught.value)


def test_invalid_grant_is_rejected_with_its_provider_error():
    with pytest.raises(IonRejected) as caught:
        check(400, {"error": "invalid_grant"})

    assert caught.value.provider_error == "invalid_grant"
    assert caught.value.status_code == 400


def test_ions_403_for_a_bad_token_is_rejected():
    with pytest.raises(IonRejected) as caught:
        check(403, {"detail": "Authentication credentials were not provided."})

    assert str(caught.value) == "Ion refused the profile request (HTTP 403)."
    assert caught.value.status_code == 403
    assert caught.value.provider_error is None


def test_another_4xx_names_the_oauth_error():
    with pytest.raises(IonRejected) as caught:
        check(400, {"error": "invalid_scope"})

    assert str(caught.value) == "Ion refused the profile request (HTTP 400, invalid_scope)."


def test_an_error_field_that_is_not_an_oauth_code_is_not_repeated():
    with pytest.raises(IonRejected) as caught:
        check(400, {"error": "<b>owned</b>"})

    assert str(caught.value) == "Ion refused the profile request (HTTP 400)."


# -- send / request_json ------------------------------------------------------------------


@pytest.fixture
def fake() -> responses.RequestsMock:
    with responses.RequestsMock() as mock:
        yield mock


def test_request_json_returns_the_object(fake):
    fake.add(responses.GET, URL, json={"id": 1})

    assert transport.request_json("GET", URL, what="profile", timeout=1) == {"id": 1}


def test_requests_carry_the_user_agent_and_do_not_follow_redirects(fake):
    fake.add(responses.GET, URL, status=301, headers={"Location": "https://elsewhere.test/"})

    with pytest.raises(IonResponseError):
        transport.request_json("GET", URL, what="profile", timeout=1)

    assert len(fake.calls) == 1
    assert fake.calls[0].request.headers["User-Agent"] == transport.USER_AGENT


@pytest.mark.parametrize(
    "error",
    [
        requests.ConnectionError("refused"),
        requests.exceptions.ChunkedEncodingError("cut"),
        requests.exceptions.SSLError("bad cert"),
    ],
)
def test_network_failures_become_ion_unavailable(fake, error):
    fake.add(responses.GET, URL, body=error)

    with pytest.raises(IonUnavailable) as caught:
        transport.send("GET", URL, what="profile", timeout=1)

    assert str(caught.value) == "Ion could not be reached. Please try again in a few minutes."
    assert caught.value.__cause__ is error


def test_a_timeout_becomes_ion_unavailable_naming_the_timeout(fake):
    fake.add(responses.GET, URL, body=requests.ConnectTimeout("slow"))

    with pytest.raises(IonUnavailable) as caught:
        transport.send("GET", URL, what="profile", timeout=0.5)

    assert str(caught.value) == (
        "Ion did not answer within 0.5 seconds. Please try again in a few minutes."
    )


def test_an_oversized_body_is_refused(fake):
    fake.add(responses.GET, URL, body=b"x" * (transport.MAX_BODY + 1))

    with pytest.raises(IonResponseError) as caught:
        transport.send("GET", URL, what="profile", timeout=1)

    assert "unexpectedly large" in str(caught.value)


def test_one_session_is_shared_so_connections_are_reused():
    assert transport.get_session() is transport.get_session()


def test_the_session_never_keeps_cookies_from_ion(fake):
    fake.add(responses.GET, URL, json={}, headers={"Set-Cookie": "sessionid=abc; Path=/"})

    transport.request_json("GET", URL, what="profile", timeout=1)

    assert len(transport.get_session().cookies) == 0


def test_a_connection_reset_while_reading_the_body_is_unreachable_not_a_timeout(fake, monkeypatch):
    fake.add(responses.GET, URL, json={"id": 1})

    def reset(self, *args, **kwargs):
        raise urllib3.exceptions.ProtocolError("Connection broken", ConnectionResetError())

    monkeypatch.setattr(urllib3.HTTPResponse, "stream", reset)

    with pytest.raises(IonUnavailable) as caught:
        transport.send("GET", URL, what="profile", timeout=1)

    assert str(caught.value) == "Ion could not be reached. Please try again in a few minutes."
    assert not isinstance(caught.value.__cause__, requests.Timeout)


# -- compressed answers: asked not to be sent, capped if they are ------------------------


def test_requests_ask_for_an_uncompressed_answer(fake):
    fake.add(responses.GET, URL, json={"id": 1})

    transport.request_json("GET", URL, what="profile", timeout=1)

    assert fake.calls[0].request.headers["Accept-Encoding"] == "identity"


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("identity", bytes),
        ("", bytes),
    ],
)
def test_an_answer_compressed_anyway_is_decoded(fake, encoding, compress):
    body = compress(json.dumps({"id": 1}).encode())
    fake.add(responses.GET, URL, body=body, headers={"Content-Encoding": encoding})

    assert transport.request_json("GET", URL, what="profile", timeout=1) == {"id": 1}


def test_a_decompression_bomb_is_refused_without_inflating_it(fake):
    """64 KiB of gzip that inflates to 64 MiB: refused once MAX_BODY is passed."""
    bomb = gzip.compress(bytes(64 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < transport.MAX_BODY
    fake.add(responses.GET, URL, body=bomb, headers={"Content-Encoding": "gzip"})

    tracemalloc.start()
    try:
        with pytest.raises(IonResponseError) as caught:
            transport.send("GET", URL, what="profile", timeout=5)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert "unexpectedly large" in str(caught.value)
    assert peak < 8 * transport.MAX_BODY


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("br", b"\x0b\x02\x80{}\x03"),
        ("gzip", gzip.compress(b'{"id": 1}')[:-6]),
        ("gzip", b"not gzip at all"),
        ("gzip, gzip", gzip.compress(gzip.compress(b"{}"))),
    ],
    ids=["unknown-encoding", "truncated", "not-compressed", "twice"],
)
def test_a_compressed_answer_that_cannot_be_decoded_is_a_response_error(fake, encoding, body):
    fake.add(responses.GET, URL, body=body, headers={"Content-Encoding": encoding})

    with pytest.raises(IonResponseError) as caught:
        transport.send("GET", URL, what="profile", timeout=1)

    assert str(caught.value) == (
        "Ion sent a profile response this site could not read. Please try again later."
    )


# -- error reports ------------------------------------------------------------------------

# Made at run time: the report's source excerpts show this file, never the values.
SECRET, TOKEN, CODE = (f"{name}-{secrets.token_hex(8)}" for name in ("secret", "token", "code"))


@pytest.mark.parametrize(
    "error",
    [requests.ConnectionError("refused"), requests.ReadTimeout("slow")],
    ids=["unreachable", "timeout"],
)
def test_an_error_report_of_a_failed_request_shows_no_secret(fake, error, settings):
    settings.DEBUG = False
    fake.add(responses.POST, URL, body=error)

    try:
        transport.request_json(
            "POST",
            URL,
            what="token",
            timeout=1,
            data={"client_secret": SECRET, "code": CODE},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    except IonUnavailable:
        report = ExceptionReporter(None, *sys.exc_info())
        text, page = report.get_traceback_text(), report.get_traceback_html()
    else:  # pragma: no cover - the request above always fails
        pytest.fail("no error")

    assert "request_json" in text
    assert "send" in text
    for secret in (SECRET, TOKEN, CODE):
        assert secret not in text
        assert secret not in page


def test_an_error_report_of_a_too_large_token_answer_shows_none_of_it(fake, settings):
    settings.DEBUG = False
    fake.add(responses.POST, URL, body=b'{"access_token": "' + TOKEN.encode() * 70_000 + b'"}')

    with pytest.raises(IonResponseError) as caught:
        transport.request_json("POST", URL, what="token", timeout=1)
    report = ExceptionReporter(None, type(caught.value), caught.value, caught.tb)

    assert "_read_capped" in report.get_traceback_text()
    assert TOKEN not in report.get_traceback_text()


# -- what each failure tells code that handles it: code, stage, status ----------------------


def failure_of(status, body, headers=None, *, stage="token_exchange"):
    if isinstance(body, dict):
        body = json.dumps(body)
    with pytest.raises(IonAuthError) as caught:
        transport.check_response(status, body.encode(), headers or {}, what="token", stage=stage)
    error = caught.value
    return type(error), error.code, error.stage, error.status_code, error.provider_error


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, "[]", (IonResponseError, "malformed_response", "token_exchange", 200, None)),
        (299, "nope", (IonResponseError, "malformed_response", "token_exchange", 299, None)),
        (300, '{"id": 1}', (IonResponseError, "http_error", "token_exchange", 300, None)),
        (399, "", (IonResponseError, "http_error", "token_exchange", 399, None)),
        (400, "", (IonRejected, "http_error", "token_exchange", 400, None)),
        (
            400,
            {"error": "invalid_scope"},
            (IonRejected, "http_error", "token_exchange", 400, "invalid_scope"),
        ),
        (
            400,
            {"error": "invalid_client"},
            (IonRejected, "credential_rejected", "token_exchange", 400, "invalid_client"),
        ),
        (401, "", (IonRejected, "credential_rejected", "token_exchange", 401, None)),
        (
            403,
            {"error": "invalid_grant"},
            (IonRejected, "authorization_code_rejected", "token_exchange", 403, "invalid_grant"),
        ),
        (429, "", (IonUnavailable, "rate_limited", "token_exchange", 429, None)),
        (499, "", (IonRejected, "http_error", "token_exchange", 499, None)),
        (500, "", (IonUnavailable, "unavailable", "token_exchange", 500, None)),
        (599, "", (IonUnavailable, "unavailable", "token_exchange", 599, None)),
    ],
)
def test_each_answer_fails_with_its_code_stage_and_status(status, body, expected):
    assert failure_of(status, body) == expected


def test_the_stage_given_is_the_stage_reported():
    assert failure_of(503, "", stage="refresh")[2] == "refresh"


def test_the_default_stage_is_unknown():
    with pytest.raises(IonUnavailable) as caught:
        transport.check_response(503, b"", {}, what="token")

    assert caught.value.stage == "unknown"


def test_a_2xx_other_than_200_returns_the_json():
    assert check(201, {"id": 2}) == {"id": 2}
    assert check(299, {"id": 3}) == {"id": 3}


def test_http_300_is_a_redirect_even_with_a_json_body():
    with pytest.raises(IonResponseError) as caught:
        check(300, {"id": 1})

    assert str(caught.value) == (
        "Ion answered the profile request with a redirect (HTTP 300); "
        "the site's SOCIAL_AUTH_ION_BASE_URL may be wrong."
    )


def test_a_credentials_failure_says_exactly_what_to_check():
    with pytest.raises(IonRejected) as caught:
        check(401, "")

    assert str(caught.value) == (
        "Ion did not accept this site's client credentials. The site's administrator "
        "should check SOCIAL_AUTH_ION_KEY and SOCIAL_AUTH_ION_SECRET."
    )


def test_a_used_code_says_exactly_what_happened():
    with pytest.raises(IonRejected) as caught:
        check(400, {"error": "invalid_grant"})

    assert str(caught.value) == (
        "Ion did not accept the sign-in code: it expired or was already used. Please log in again."
    )


@pytest.mark.parametrize(
    ("retry_after", "wait"),
    [("0", " in 0 seconds"), ("99999", " in 99999 seconds"), ("100000", " later"), ("", " later")],
)
def test_retry_after_is_named_only_when_it_is_a_few_digits(retry_after, wait):
    with pytest.raises(IonUnavailable) as caught:
        check(429, "", {"Retry-After": retry_after})

    assert str(caught.value) == f"Ion is receiving too many requests. Please try again{wait}."


def test_429_without_retry_after_says_later():
    with pytest.raises(IonUnavailable) as caught:
        check(429, "")

    assert str(caught.value) == "Ion is receiving too many requests. Please try again later."
    assert caught.value.retry_after is None


@pytest.mark.parametrize(
    ("error", "shown"),
    [("a" * 64, "a" * 64), ("a" * 65, None), ("server_error", "server_error"), (5, None)],
)
def test_an_oauth_error_is_kept_only_when_it_looks_like_one(error, shown):
    assert failure_of(400, {"error": error})[4] == shown


# -- the body: read up to MAX_BODY, and logged URLs without their query ---------------------


def test_a_body_of_exactly_max_body_bytes_is_read(fake):
    fake.add(responses.GET, URL, body=b"x" * transport.MAX_BODY)

    status, body, _headers = transport.send("GET", URL, what="profile", timeout=1)

    assert (status, len(body)) == (200, transport.MAX_BODY)


def test_an_oversized_body_says_so_with_its_code_stage_status_and_backend(fake, caplog):
    fake.add(responses.GET, URL, body=b"x" * (transport.MAX_BODY + 1))

    with pytest.raises(IonResponseError) as caught:
        transport.send("GET", URL, what="profile", timeout=1, backend=BACKEND, stage="user_info")

    assert str(caught.value) == (
        "Ion sent an unexpectedly large profile response. Please try again later."
    )
    assert (caught.value.code, caught.value.stage, caught.value.status_code) == (
        "malformed_response",
        "user_info",
        200,
    )
    assert caught.value.backend is BACKEND
    assert caplog.messages == [f"Ion profile response is larger than {transport.MAX_BODY} bytes"]


def test_the_request_is_sent_as_asked(fake):
    fake.add(responses.POST, URL, json={})

    transport.request_json(
        "POST",
        URL,
        what="token",
        timeout=3,
        headers={"Accept": "application/json"},
        data={"a": "b"},
        auth=("id", "secret"),
    )

    request = fake.calls[0].request
    assert request.body == "a=b"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Authorization"].startswith("Basic ")
    assert request.req_kwargs["timeout"] == 3
    assert request.req_kwargs["stream"] is True


@pytest.mark.parametrize(
    ("error", "logged"),
    [
        (
            requests.ConnectionError("refused"),
            "Ion token request failed: POST {url}: ConnectionError",
        ),
        (requests.ReadTimeout("slow"), "Ion token request timed out after 2s: POST {url}"),
    ],
    ids=["unreachable", "timeout"],
)
def test_a_failed_requests_log_line_leaves_out_the_query(fake, caplog, error, logged):
    fake.add(responses.POST, f"{URL}?token=s3cret-in-query", body=error)

    with pytest.raises(IonUnavailable) as caught:
        transport.send(
            "POST", f"{URL}?token=s3cret-in-query", what="token", timeout=2, stage="refresh"
        )

    assert caplog.messages == [logged.format(url=URL)]
    expected_code = "timeout" if isinstance(error, requests.Timeout) else "connection_failed"
    assert (caught.value.code, caught.value.stage) == (expected_code, "refresh")


def test_an_http_failure_is_logged_with_status_and_oauth_error_only(caplog):
    with pytest.raises(IonRejected):
        check(400, {"error": "invalid_scope", "error_description": "s3cret"})
    with pytest.raises(IonRejected):
        check(403, "")

    assert caplog.messages == [
        "Ion profile request failed: HTTP 400 error=invalid_scope",
        "Ion profile request failed: HTTP 403 error=-",
    ]


def test_a_2xx_that_is_not_an_object_is_logged_by_status(caplog):
    with pytest.raises(IonResponseError):
        check(200, "[]")

    assert caplog.messages == ["Ion profile response (HTTP 200) is not a JSON object"]


# -- who failed, and what the answer held ------------------------------------------------------

BACKEND = object()


@pytest.mark.parametrize("status", [200, 300, 401, 400, 403, 429, 503])
def test_every_failure_names_the_backend_it_was_for(status):
    body = json.dumps({"error": "invalid_grant"} if status == 403 else []).encode()

    with pytest.raises(IonAuthError) as caught:
        transport.check_response(status, body, {}, what="token", backend=BACKEND)

    assert caught.value.backend is BACKEND


@pytest.mark.parametrize(
    "answer",
    [
        {"body": requests.ConnectTimeout("slow")},
        {"body": requests.ConnectionError("refused")},
        {"body": b"x" * (transport.MAX_BODY + 1)},
        {"body": b"{}", "headers": {"Content-Encoding": "br"}},
    ],
    ids=["timeout", "unreachable", "too-large", "unknown-encoding"],
)
def test_every_failure_to_get_an_answer_names_the_backend_it_was_for(fake, answer):
    fake.add(responses.GET, URL, **answer)

    with pytest.raises(IonAuthError) as caught:
        transport.send("GET", URL, what="profile", timeout=1, backend=BACKEND)

    assert caught.value.backend is BACKEND


@pytest.mark.parametrize("encoding", ["br", "gzip"], ids=["unknown-encoding", "broken-gzip"])
def test_an_answer_that_cannot_be_decoded_is_unreadable_with_its_status(fake, encoding):
    fake.add(responses.GET, URL, body=b"not gzip", headers={"Content-Encoding": encoding})

    with pytest.raises(IonResponseError) as caught:
        transport.send("GET", URL, what="profile", timeout=1, backend=BACKEND, stage="user_info")

    assert str(caught.value) == (
        "Ion sent a profile response this site could not read. Please try again later."
    )
    assert (caught.value.code, caught.value.stage, caught.value.status_code) == (
        "malformed_response",
        "user_info",
        200,
    )
    assert caught.value.backend is BACKEND


def test_a_lone_surrogate_escape_is_not_text():
    with pytest.raises(IonResponseError):
        check(200, '{"name": "\\ud800"}')


def test_non_ascii_text_is_fine():
    assert check(200, '{"name": "Zo\\u00eb \\u2603"}') == {"name": "Zo\u00eb \u2603"}


def test_a_logged_url_ends_at_its_first_question_mark(fake, caplog):
    url = f"{URL}?next=/a?token=s3cret"
    fake.add(responses.GET, url, body=requests.ConnectionError("refused"))

    with pytest.raises(IonUnavailable):
        transport.send("GET", url, what="profile", timeout=1)

    assert caplog.messages == [f"Ion profile request failed: GET {URL}: ConnectionError"]


# -- send's decisions, one at a time: each try of the request is faked ---------------------

DEAD = "dead"


def tries(monkeypatch, *outcomes):
    """Make each try of a request end as the next of ``outcomes``: an answer, an error, or
    ``(DEAD, error)`` (a reused connection died before answering, then ``error``). Returns
    what each try saw: (its socket timeout, whether it was told to use a new connection)."""
    seen = []

    def attempt(method, url, *, timeout, **kwargs):
        call = transport._current_call()
        seen.append((timeout, call.fresh_only))
        outcome = outcomes[len(seen) - 1]
        if isinstance(outcome, tuple) and outcome[0] == DEAD:
            call.dead_reused = True
            outcome = outcome[1]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    monkeypatch.setattr(transport, "_attempt", attempt)
    return seen


ANSWER = (200, b"{}", {})


def test_a_request_a_reused_connection_lost_is_sent_once_more_on_a_new_one(monkeypatch, caplog):
    caplog.set_level("DEBUG", logger="ion_oauth")
    seen = tries(monkeypatch, (DEAD, requests.ConnectionError("reset")), ANSWER)

    assert transport.send("GET", URL, what="profile", timeout=0.5) == ANSWER

    (first_timeout, first_fresh), (second_timeout, second_fresh) = seen
    assert (first_timeout, first_fresh, second_fresh) == (0.5, False, True)
    # The second try has what is left of the deadline, not the whole timeout again.
    assert 0.3 < second_timeout < 0.5
    assert caplog.messages == [
        "Ion closed a kept-alive connection before answering the profile request; "
        "sending it again on a new connection"
    ]


def test_a_request_is_sent_at_most_twice(monkeypatch):
    lost = (DEAD, requests.ConnectionError("reset"))
    seen = tries(monkeypatch, lost, lost, ANSWER)

    with pytest.raises(IonUnavailable) as caught:
        transport.send("GET", URL, what="profile", timeout=1)

    assert len(seen) == 2
    assert caught.value.code == "connection_failed"


@pytest.mark.parametrize(
    ("method", "replayable", "outcome"),
    [
        ("POST", None, (DEAD, requests.ConnectionError("reset"))),
        ("GET", False, (DEAD, requests.ConnectionError("reset"))),
        ("GET", None, requests.ConnectionError("refused")),
        ("GET", None, (DEAD, requests.exceptions.ChunkedEncodingError("cut"))),
    ],
    ids=["post", "not-replayable", "not-a-reused-connection", "answer-had-begun"],
)
def test_a_request_is_not_sent_again_unless_all_allow_it(monkeypatch, method, replayable, outcome):
    seen = tries(monkeypatch, outcome, ANSWER)

    with pytest.raises(IonUnavailable) as caught:
        transport.send(method, URL, what="profile", timeout=1, replayable=replayable)

    assert len(seen) == 1
    assert caught.value.code == "connection_failed"


@pytest.mark.parametrize("method", ["get", "HEAD", "options"])
def test_reads_are_sent_again_whatever_the_methods_case(monkeypatch, method):
    seen = tries(monkeypatch, (DEAD, requests.ConnectionError("reset")), ANSWER)

    assert transport.send(method, URL, what="profile", timeout=1) == ANSWER
    assert len(seen) == 2


def test_a_post_marked_replayable_is_sent_again(monkeypatch):
    seen = tries(monkeypatch, (DEAD, requests.ConnectionError("reset")), ANSWER)

    assert transport.send("POST", URL, what="token", timeout=1, replayable=True) == ANSWER
    assert len(seen) == 2


def test_a_request_is_not_sent_again_once_its_deadline_is_spent(monkeypatch):
    def lost_late(method, url, **kwargs):
        call = transport._current_call()
        call.deadline = time.monotonic() - 0.01  # spent, though the watchdog has not seen it
        call.dead_reused = True
        raise requests.ConnectionError("reset")

    monkeypatch.setattr(transport, "_attempt", lost_late)

    with pytest.raises(IonUnavailable) as caught:
        transport.send("GET", URL, what="profile", timeout=5)

    assert caught.value.code == "connection_failed"


def test_a_request_whose_deadline_passed_times_out_whatever_the_error(monkeypatch, caplog):
    def expired(method, url, **kwargs):
        transport._current_call().expired = True
        raise requests.ConnectionError("shut down by the watchdog")

    monkeypatch.setattr(transport, "_attempt", expired)

    with pytest.raises(IonUnavailable) as caught:
        transport.send("GET", URL, what="profile", timeout=2, stage="user_info")

    assert (caught.value.code, caught.value.stage) == ("timeout", "user_info")
    assert str(caught.value) == (
        "Ion did not answer within 2 seconds. Please try again in a few minutes."
    )
    assert caplog.messages == [f"Ion profile request timed out after 2s: GET {URL}"]


def test_no_call_is_left_current_after_a_request(fake, monkeypatch):
    fake.add(responses.GET, URL, json={})
    transport.send("GET", URL, what="profile", timeout=1)
    assert transport._current_call() is None

    tries(monkeypatch, requests.ConnectionError("refused"))
    with pytest.raises(IonUnavailable):
        transport.send("GET", URL, what="profile", timeout=1)
    assert transport._current_call() is None


def test_a_thread_that_never_sent_a_request_has_no_current_call():
    seen = []
    thread = threading.Thread(target=lambda: seen.append(transport._current_call()))
    thread.start()
    thread.join()

    assert seen == [None]


def test_a_request_inside_another_gives_the_outer_one_back(fake, monkeypatch):
    fake.add(responses.GET, URL, json={})
    outer = transport._Call(time.monotonic() + 5, 1.0)
    monkeypatch.setattr(transport._local, "call", outer, raising=False)

    transport.send("GET", URL, what="profile", timeout=1)

    assert transport._current_call() is outer


# -- what request_json hands on ---------------------------------------------------------------


def test_request_json_reports_a_failure_for_its_backend_and_stage(fake):
    fake.add(responses.GET, URL, body=requests.ConnectionError("refused"))
    fake.add(responses.GET, URL, status=503)

    for _ in range(2):
        with pytest.raises(IonUnavailable) as caught:
            transport.request_json(
                "GET", URL, what="profile", timeout=1, backend=BACKEND, stage="user_info"
            )
        assert (caught.value.backend, caught.value.stage) == (BACKEND, "user_info")


def test_request_json_reads_retry_after_from_the_answer(fake):
    fake.add(responses.POST, URL, status=429, headers={"Retry-After": "30"})

    with pytest.raises(IonUnavailable) as caught:
        transport.request_json("POST", URL, what="token", timeout=1)

    assert str(caught.value) == (
        "Ion is receiving too many requests. Please try again in 30 seconds."
    )


def test_request_json_names_the_request_in_its_errors(fake):
    fake.add(responses.GET, URL, status=403)

    with pytest.raises(IonRejected) as caught:
        transport.request_json("GET", URL, what="profile", timeout=1)

    assert str(caught.value) == "Ion refused the profile request (HTTP 403)."


def test_request_json_passes_replayable_on(monkeypatch):
    seen = tries(monkeypatch, (DEAD, requests.ConnectionError("reset")), ANSWER)

    assert transport.request_json("POST", URL, what="token", timeout=1, replayable=True) == {}
    assert len(seen) == 2


# -- reading the body -------------------------------------------------------------------------


def test_a_content_encoding_is_read_whatever_its_case_and_spacing(fake):
    body = gzip.compress(b'{"id": 1}')
    fake.add(responses.GET, URL, body=body, headers={"Content-Encoding": " GZip "})

    assert transport.request_json("GET", URL, what="profile", timeout=1) == {"id": 1}


def test_a_gzipped_answer_of_exactly_max_body_bytes_is_read(fake):
    fake.add(
        responses.GET,
        URL,
        body=gzip.compress(bytes(transport.MAX_BODY)),
        headers={"Content-Encoding": "gzip"},
    )

    status, body, _headers = transport.send("GET", URL, what="profile", timeout=1)

    assert (status, body) == (200, bytes(transport.MAX_BODY))


def test_a_gzipped_answer_one_byte_over_max_body_is_refused(fake):
    fake.add(
        responses.GET,
        URL,
        body=gzip.compress(bytes(transport.MAX_BODY + 1)),
        headers={"Content-Encoding": "gzip"},
    )

    with pytest.raises(IonResponseError) as caught:
        transport.send("GET", URL, what="profile", timeout=1)

    assert "unexpectedly large" in str(caught.value)


UNKNOWN = "Ion profile response has an unknown Content-Encoding"
UNDECOMPRESSED = "Ion profile response could not be decompressed"


@pytest.mark.parametrize(
    ("encoding", "body", "why"),
    [
        ("br", b"{}", (UNKNOWN, None)),
        ("gzip", b"not gzip", (UNDECOMPRESSED, "zlib")),
        (
            "gzip",
            gzip.compress(b'{"id": 1}')[:-6],
            (UNDECOMPRESSED, "the compressed body ends early"),
        ),
    ],
    ids=["unknown", "not-gzip", "truncated"],
)
def test_an_unreadable_answer_is_logged_with_why(fake, caplog, encoding, body, why):
    logged, cause = why
    fake.add(responses.GET, URL, body=body, headers={"Content-Encoding": encoding})

    with pytest.raises(IonResponseError) as caught:
        transport.send("GET", URL, what="profile", timeout=1)

    assert caplog.messages == [logged]
    if cause is None:
        assert caught.value.__cause__ is None
    elif cause == "zlib":
        assert isinstance(caught.value.__cause__, zlib.error)
    else:
        assert str(caught.value.__cause__) == cause


@pytest.mark.parametrize(
    ("raised", "code", "cause"),
    [
        (
            urllib3.exceptions.ReadTimeoutError(None, URL, "read timed out"),
            "timeout",
            requests.ReadTimeout,
        ),
        (
            urllib3.exceptions.SSLError("bad record mac"),
            "connection_failed",
            requests.exceptions.SSLError,
        ),
        (
            urllib3.exceptions.ProtocolError("Connection broken", ConnectionResetError()),
            "connection_failed",
            requests.exceptions.ChunkedEncodingError,
        ),
        (urllib3.exceptions.DecodeError("odd"), "connection_failed", requests.ConnectionError),
        (OSError("gone"), "connection_failed", requests.ConnectionError),
    ],
    ids=["read-timeout", "tls", "cut", "urllib3", "os"],
)
def test_a_failure_while_reading_the_body_is_told_apart(fake, monkeypatch, raised, code, cause):
    fake.add(responses.GET, URL, json={"id": 1})

    def fail(self, *args, **kwargs):
        raise raised
        yield  # pragma: no cover - a generator, as stream() is

    monkeypatch.setattr(urllib3.HTTPResponse, "stream", fail)

    with pytest.raises(IonUnavailable) as caught:
        transport.send("GET", URL, what="profile", timeout=1)

    assert caught.value.code == code
    assert type(caught.value.__cause__) is cause
    assert caught.value.__cause__.__cause__ is raised
    # The requests error says what urllib3 said, and which request it was.
    assert str(caught.value.__cause__) == str(raised)
    assert caught.value.__cause__.request.url == URL


# -- the session, its connections, and the deadline watchdog -------------------------------


@pytest.fixture
def new_session(monkeypatch):
    """The process's session made anew, as the first call to Ion makes it."""
    monkeypatch.setattr(transport, "_session", None)
    session = transport.get_session()
    yield session
    session.close()


@pytest.mark.parametrize("url", [URL, "http://ion.example.test/api/profile"])
def test_connections_to_ion_over_either_scheme_know_their_age(new_session, url):
    pool = new_session.get_adapter(url).poolmanager.connection_from_url(url)

    assert issubclass(pool.ConnectionCls, transport._TrackedConnection)
    assert issubclass(pool.ConnectionCls, HTTPSConnection) == url.startswith("https:")


def test_a_pool_keeps_a_connection_for_each_of_32_concurrent_logins(new_session):
    """docs/cost.md measures 32 concurrent users; fewer kept connections would mean a new
    connection (a TLS handshake) and a "pool is full" warning for each one over."""
    pool = new_session.get_adapter(URL).poolmanager.connection_from_url(URL)

    assert pool.pool.maxsize >= 32


def test_without_django_settings_max_idle_is_its_default(monkeypatch):
    monkeypatch.setattr(transport, "settings", SimpleNamespace(configured=False))

    assert transport._max_idle() == DEFAULTS["MAX_IDLE"]


class Stop(Exception):
    pass


class OneWait:
    """A watchdog condition that records how long the loop would sleep, then stops it."""

    def __init__(self):
        self.waited = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def wait(self, seconds):
        self.waited.append(seconds)
        raise Stop


def one_round(*calls):
    dog = transport._Watchdog()
    dog._condition = OneWait()
    dog._calls = set(calls)
    with pytest.raises(Stop):
        dog._run()
    return dog, dog._condition.waited[0]


def test_the_watchdog_shuts_a_late_calls_socket_and_sleeps_until_the_next_deadline():
    late_sock, peer = socket.socketpair()
    late = transport._Call(time.monotonic() - 0.01, 1.0)
    late.sock = late_sock
    pending = transport._Call(time.monotonic() + 5, 1.0)

    with late_sock, peer:
        late_sock.settimeout(1)
        dog, waited = one_round(late, pending)

        assert (late.expired, pending.expired) == (True, False)
        assert dog._calls == {pending}
        assert 4 < waited <= 5
        assert late_sock.recv(1) == b""  # shut down: a blocked read returns


def test_the_watchdog_with_nothing_to_watch_sleeps():
    _dog, waited = one_round()

    assert waited > 0


def test_a_call_past_its_deadline_gets_its_socket_shut_when_it_attaches_it():
    sock, peer = socket.socketpair()
    call = transport._Call(time.monotonic() + 5, 1.0)
    call.expired = True

    with sock, peer:
        sock.settimeout(1)
        transport._watchdog.attach(call, sock)

        assert call.sock is sock
        assert sock.recv(1) == b""


def test_the_watchdog_runs_in_one_named_daemon_thread(fake):
    fake.add(responses.GET, URL, json={})

    transport.send("GET", URL, what="profile", timeout=1)

    thread = transport._watchdog._thread
    assert (thread.name, thread.daemon, thread.is_alive()) == ("ion-oauth-deadlines", True, True)


def test_a_failed_request_without_a_stage_reports_the_stage_unknown(fake):
    fake.add(responses.GET, URL, body=requests.ConnectionError("refused"))
    fake.add(responses.GET, URL, status=503)

    for _ in range(2):
        with pytest.raises(IonUnavailable) as caught:
            transport.request_json("GET", URL, what="profile", timeout=1)
        assert caught.value.stage == "unknown"


def test_a_request_sent_without_a_stage_reports_the_stage_unknown(monkeypatch):
    tries(monkeypatch, requests.ConnectionError("refused"))

    with pytest.raises(IonUnavailable) as caught:
        transport.send("GET", URL, what="profile", timeout=1)

    assert caught.value.stage == "unknown"


def test_one_watchdog_thread_serves_every_request(fake):
    fake.add(responses.GET, URL, json={})
    fake.add(responses.GET, URL, json={})

    transport.send("GET", URL, what="profile", timeout=1)
    transport.send("GET", URL, what="profile", timeout=1)

    watchdogs = [t for t in threading.enumerate() if t.name == "ion-oauth-deadlines"]
    assert watchdogs == [transport._watchdog._thread]


def test_shutting_a_socket_that_is_already_closed_is_quiet():
    sock, peer = socket.socketpair()
    peer.close()
    sock.close()

    transport._shut(sock)  # EBADF, suppressed: the connection ended before its deadline
    transport._shut(None)

    assert sock.fileno() == -1


def test_a_new_watchdog_starts_its_thread_and_shuts_a_socket_at_its_deadline():
    """As the one made at import, and made anew in a forked child (os.register_at_fork)."""
    dog = transport._Watchdog()
    sock, peer = socket.socketpair()
    call = transport._Call(time.monotonic() + 0.1, 1.0)

    with sock, peer:
        sock.settimeout(2)
        dog.add(call)
        dog.attach(call, sock)

        assert sock.recv(1) == b""  # returns at the deadline, not after the 2 s timeout
        assert call.expired
        assert dog._calls == set()
        assert dog._thread.is_alive()


def test_request_json_logs_a_failure_under_the_requests_name(fake, caplog):
    fake.add(responses.GET, URL, body=requests.ConnectionError("refused"))

    with pytest.raises(IonUnavailable):
        transport.request_json("GET", URL, what="profile", timeout=1)

    assert caplog.messages == [f"Ion profile request failed: GET {URL}: ConnectionError"]
