"""A kept-alive connection that Ion closed never fails a login or an API call.

Ion (gunicorn, nginx) closes idle keep-alive connections; a request sent on one just as it
closes finds nobody. :mod:`faults.keepalive_ion` closes connections the three ways real
servers do; for each, logins and API calls succeed and nothing is logged above DEBUG.
And what must not be sent twice is not: a POST of the API, a request whose answer had
begun, one that timed out, one on a new connection.
"""

from __future__ import annotations

import logging
import random
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
import urllib3.connection
from django.views.debug import ExceptionReporter
from faults.conftest import LoopbackLogin
from faults.fake_ion import FIXTURES, PROFILE_PATH, TIMEOUT, TOKEN_PATH
from faults.keepalive_ion import KeepAliveIon, running

from ion_oauth import transport
from ion_oauth.api import IonClient
from ion_oauth.exceptions import IonAuthError, IonUnavailable

pytestmark = pytest.mark.django_db

UNREACHABLE = "Ion could not be reached. Please try again in a few minutes."
TIMED_OUT = f"Ion did not answer within {TIMEOUT:g} seconds. Please try again in a few minutes."


@pytest.fixture
def ion(settings: Any) -> Iterator[KeepAliveIon]:
    """A keep-alive fake Ion, the site pointed at it, and no connection kept from before."""
    transport.get_session().close()
    with running() as server:
        settings.SOCIAL_AUTH_ION_BASE_URL = server.url
        settings.SOCIAL_AUTH_ION_TIMEOUT = TIMEOUT
        yield server
    transport.get_session().close()


def api_client(ion: KeepAliveIon, timeout: float = TIMEOUT) -> IonClient:
    token = {
        "access_token": "keepalive-api-access-Hs6Yb",
        "refresh_token": "keepalive-api-refresh-Jd2Rn",
        "expires_at": time.time() + 3600,
    }
    return IonClient.from_token(
        token,
        client_id="site",
        client_secret="site-secret",
        on_token=lambda token: None,
        base_url=ion.url,
        timeout=timeout,
    )


def alarming(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno > logging.DEBUG]


def get(ion: KeepAliveIon, path: str = PROFILE_PATH, **options: Any) -> tuple[int, bytes, Any]:
    return transport.send("GET", ion.url + path, what="API", timeout=TIMEOUT, **options)


# -- the three ways Ion closes a kept-alive connection -----------------------------------

CLOSING = {
    "after an idle time": {"mode": "idle", "idle": 0.02},
    "when the next request arrives": {"mode": "on_next", "idle": 0.0},
    "after 2 requests": {"mode": "after", "after": 2},
}


@pytest.mark.parametrize("closing", CLOSING)
def test_logins_and_api_calls_succeed_whenever_ion_closes_connections(closing, ion, client, caplog):
    caplog.set_level(logging.DEBUG)
    ion.reset(**CLOSING[closing])
    login, api = LoopbackLogin(client), api_client(ion)
    gaps = random.Random(closing)  # noqa: S311 - idle gaps, not secrets

    for _ in range(8):
        assert login.attempt()["Location"] == "/"
        client.logout()
        time.sleep(gaps.uniform(0, 0.04))
        assert api.get("profile")["ion_username"] == "2027jdoe"
        time.sleep(gaps.uniform(0, 0.04))

    assert ion.unanswered + ion.closed_idle >= 4, "Ion never closed a connection"
    assert alarming(caplog) == []


def test_a_thousand_requests_with_random_idle_gaps_all_succeed(ion, caplog):
    """Ion closes a connection idle for 4 ms when the next request arrives on it."""
    ion.reset("on_next", idle=0.004)
    gaps = random.Random(1000)  # noqa: S311 - idle gaps, not secrets
    failures = []

    for _ in range(1000):
        time.sleep(gaps.uniform(0, 0.008))
        try:
            transport.request_json("GET", ion.url + PROFILE_PATH, what="API", timeout=5)
        except IonAuthError as error:
            failures.append(str(error))

    assert failures == []
    assert ion.unanswered >= 100, f"only {ion.unanswered} requests met a closing connection"
    assert alarming(caplog) == []


def test_the_token_request_is_sent_again_and_an_api_post_is_not(ion):
    ion.reset("on_next", idle=0.0)
    get(ion)

    assert (
        transport.send(
            "POST", ion.url + TOKEN_PATH, what="token", timeout=TIMEOUT, replayable=True
        )[0]
        == 200
    )
    get(ion)
    with pytest.raises(IonUnavailable) as caught:
        transport.send("POST", ion.url + "/api/signup", what="API", timeout=TIMEOUT)

    assert str(caught.value) == UNREACHABLE
    posts = [(seen.path, seen.nth) for seen in ion.seen if seen.method == "POST"]
    # The token request: unanswered on a reused connection, then first on a new one.
    assert posts == [(TOKEN_PATH, 2), (TOKEN_PATH, 1), ("/api/signup", 2)]


def test_a_request_is_not_sent_again_when_its_connection_was_new(ion):
    ion.reset("hang_up")

    with pytest.raises(IonUnavailable) as caught:
        get(ion)

    assert str(caught.value) == UNREACHABLE
    assert len(ion.seen) == 1


def test_a_request_is_not_sent_again_once_the_answer_began(ion):
    ion.reset("partial")
    get(ion)

    with pytest.raises(IonUnavailable):
        get(ion)

    assert [seen.nth for seen in ion.seen] == [1, 2]


def test_a_request_is_not_sent_again_after_a_timeout(ion):
    ion.reset("stall")
    get(ion)

    with pytest.raises(IonUnavailable) as caught:
        get(ion)

    assert str(caught.value) == TIMED_OUT
    assert [seen.nth for seen in ion.seen] == [1, 2]


# -- the idle bound ---------------------------------------------------------------------


def test_connections_are_reused_within_the_idle_bound(ion):
    for _ in range(5):
        get(ion)

    assert ion.connections == 1
    assert [seen.nth for seen in ion.seen] == [1, 2, 3, 4, 5]


def test_a_connection_idle_longer_than_the_bound_is_not_reused(ion, settings):
    settings.SOCIAL_AUTH_ION_MAX_IDLE = 0.05
    for _ in range(3):
        get(ion)
        time.sleep(0.1)

    assert ion.connections == 3
    assert ion.unanswered == 0


def test_max_idle_zero_opens_a_connection_per_request(ion, settings):
    settings.SOCIAL_AUTH_ION_MAX_IDLE = 0
    for _ in range(3):
        get(ion)

    assert ion.connections == 3


# -- the deadline, and what is asked for --------------------------------------------------


def test_a_body_trickled_slowly_ends_at_the_deadline(ion):
    """A byte every 50 ms never trips a 0.3 s read timeout; the deadline ends it."""
    ion.reset("trickle", trickle_interval=0.05)
    size = len((FIXTURES / "profile_student.json").read_bytes())
    started = time.monotonic()

    with pytest.raises(IonUnavailable) as caught:
        get(ion)

    assert str(caught.value) == TIMED_OUT
    # The whole body takes size * 50 ms (about a minute) to arrive.
    assert time.monotonic() - started < size * 0.05 / 4
    assert ion.trickled < size


def test_requests_ask_for_an_uncompressed_answer(ion):
    get(ion)

    assert ion.seen[0].headers["accept-encoding"] == "identity"


# Made at run time: the report's source excerpts show this file, never the values.
SECRET, TOKEN = secrets.token_hex(12), secrets.token_hex(12)


def test_an_error_report_of_a_lost_request_shows_nothing_it_carried(ion, settings):
    """requests' and urllib3's frames hold the form and the headers: the report has none
    (Django hides the variables of every frame that a sensitive_variables function called)."""
    settings.DEBUG = False
    ion.reset("hang_up")

    with pytest.raises(IonUnavailable) as caught:
        transport.request_json(
            "POST",
            ion.url + TOKEN_PATH,
            what="token",
            timeout=TIMEOUT,
            data={"client_secret": SECRET},
            headers={"Authorization": f"Bearer {TOKEN}"},
            replayable=True,
        )
    report = ExceptionReporter(None, type(caught.value), caught.value, caught.tb)
    text, page = report.get_traceback_text(), report.get_traceback_html()

    assert "RemoteDisconnected" in page
    for value in (SECRET, TOKEN):
        assert value not in text
        assert value not in page


# -- a connection that dies while the request is being sent --------------------------------


def aborted_on(monkeypatch: pytest.MonkeyPatch, *nths: int) -> list[int]:
    """The nth requests sent from now on (counting from 1) find their connection aborted.

    (urllib3 swallows a broken pipe or a reset while sending, and reads the answer, which
    then fails; an abort it passes on.)"""
    sent: list[int] = []
    send_request = urllib3.connection.HTTPConnection.request

    def request(self: Any, *args: Any, **kwargs: Any) -> None:
        sent.append(len(sent) + 1)
        if len(sent) in nths:
            raise ConnectionAbortedError("Software caused connection abort")
        send_request(self, *args, **kwargs)

    monkeypatch.setattr(urllib3.connection.HTTPConnection, "request", request)
    return sent


def test_a_request_a_reused_connection_could_not_send_is_sent_on_a_new_one(ion, monkeypatch):
    get(ion)
    sent = aborted_on(monkeypatch, 1)

    assert get(ion)[0] == 200
    assert sent == [1, 2]
    assert [(seen.connection, seen.nth) for seen in ion.seen] == [(1, 1), (2, 1)]


def test_a_request_a_new_connection_could_not_send_is_not_sent_again(ion, monkeypatch):
    sent = aborted_on(monkeypatch, 1)

    with pytest.raises(IonUnavailable) as caught:
        get(ion)

    assert str(caught.value) == UNREACHABLE
    assert sent == [1]


def test_the_token_request_through_request_json_is_sent_again(ion):
    ion.reset("on_next", idle=0.0)
    get(ion)

    token = transport.request_json(
        "POST", ion.url + TOKEN_PATH, what="token", timeout=TIMEOUT, replayable=True
    )

    assert token["access_token"].startswith("keepalive-access-")
    assert [(seen.path, seen.nth) for seen in ion.seen][1:] == [(TOKEN_PATH, 2), (TOKEN_PATH, 1)]


# -- deadlines that pass -------------------------------------------------------------------


def test_a_finished_requests_deadline_leaves_its_connection_alone(ion):
    get(ion)
    time.sleep(TIMEOUT + 0.2)  # the first request's deadline passes while its connection idles

    assert transport.send("POST", ion.url + "/api/signup", what="API", timeout=TIMEOUT)[0] == 200
    assert ion.connections == 1


def test_a_deadline_that_passes_while_connecting_ends_the_request(ion, monkeypatch):
    connect = urllib3.connection.HTTPConnection.connect

    def slow_connect(self: Any) -> None:
        connect(self)
        time.sleep(TIMEOUT + 0.2)

    monkeypatch.setattr(urllib3.connection.HTTPConnection, "connect", slow_connect)

    with pytest.raises(IonUnavailable) as caught:
        get(ion)

    assert str(caught.value) == TIMED_OUT
    # It found no socket to shut yet, and keeps watching the requests that come next.
    assert transport._watchdog._thread.is_alive()


def test_a_connection_opened_before_its_first_request_is_used_as_it_is(ion, monkeypatch):
    """As an https connection is: urllib3 opens it (the TLS handshake) before the request."""
    host, port = ion.url.removeprefix("http://").split(":")
    conn = transport._TrackedConnection(host, int(port), timeout=TIMEOUT)
    call = transport._Call(time.monotonic() + 5, 1.5)
    monkeypatch.setattr(transport._local, "call", call, raising=False)
    conn.connect()

    conn.request("GET", PROFILE_PATH)
    conn.getresponse().read()
    conn.close()

    assert ion.connections == 1
    assert call.reused is False
