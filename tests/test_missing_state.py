"""The login error says why a callback's state matched no login (ion_oauth.missing_state)."""

from __future__ import annotations

import logging

import pytest
from django.conf import settings
from ion_fakes import assert_login_failed, messages_of

from ion_oauth.missing_state import REASONS, REMEMBER_FINISHED

pytestmark = pytest.mark.django_db


def said(reason: str) -> str:
    return REASONS[reason][0]


def diagnosis_logged(caplog: pytest.LogCaptureFixture) -> str:
    [record] = [r for r in caplog.records if "callback refused" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert record.name == "ion_oauth"
    return record.getMessage()


def test_no_session_cookie_names_the_usual_causes_in_the_log(ion_login, caplog):
    state = ion_login.begin()["state"]
    del ion_login.client.cookies[settings.SESSION_COOKIE_NAME]

    response = ion_login.callback(code="the-code", state=state)

    assert_login_failed(response, said("no_session_cookie"))
    logged = diagnosis_logged(caplog)
    assert "(no_session_cookie, backend ion)" in logged
    for cause in ("SESSION_COOKIE_SAMESITE", "SESSION_COOKIE_SECURE", "host name"):
        assert cause in logged
    # The state is not a secret, but nothing of the callback is logged either.
    assert state not in logged


def test_a_cookie_for_a_session_this_site_does_not_have_is_told_apart(ion_login, caplog):
    state = ion_login.begin()["state"]
    # What a development Ion on the same host name does: its own "sessionid" replaces ours.
    ion_login.client.cookies[settings.SESSION_COOKIE_NAME] = "ion-replaced-this-cookie-value"

    response = ion_login.callback(code="the-code", state=state)

    assert_login_failed(response, said("unknown_session"))
    assert "SESSION_COOKIE_NAME" in diagnosis_logged(caplog)


def test_a_session_that_never_started_a_login_here(ion_login, caplog):
    session = ion_login.client.session
    session["something"] = "of the site's own"
    session.save()
    ion_login.client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key

    response = ion_login.callback(code="the-code", state="b" * 32)

    assert_login_failed(response, said("never_started"))
    assert "another browser" in diagnosis_logged(caplog)


def test_reloading_a_finished_callback_says_the_login_was_already_finished(
    ion_login, fake_ion, caplog
):
    state = ion_login.begin()["state"]
    ion_login.mock_ion()
    first = ion_login.callback(code="the-code", state=state)
    assert first["Location"] == "/"
    calls = len(fake_ion.calls)

    again = ion_login.callback(code="the-code", state=state)

    assert again["Location"] == "/login-error/"
    assert messages_of(again) == [said("already_finished")]
    assert "reloaded" in diagnosis_logged(caplog)
    assert len(fake_ion.calls) == calls


def test_a_forged_state_beside_a_pending_login_keeps_the_pending_one(ion_login, fake_ion):
    state = ion_login.begin()["state"]

    refused = ion_login.callback(code="the-code", state="f" * 32)
    assert_login_failed(refused, said("unknown_state"))

    ion_login.mock_ion()
    assert ion_login.callback(code="the-code", state=state)["Location"] == "/"


def test_only_the_last_finished_logins_are_remembered(ion_login, fake_ion):
    states = []
    for _ in range(REMEMBER_FINISHED + 1):
        state = ion_login.begin()["state"]
        ion_login.mock_ion()
        assert ion_login.callback(code="the-code", state=state)["Location"] == "/"
        states.append(state)

    finished = ion_login.client.session["ion_ion_oauth_finished"]

    assert len(finished) == REMEMBER_FINISHED
    assert not any(state in finished for state in states)
    oldest = ion_login.callback(code="the-code", state=states[0])
    assert messages_of(oldest) == [said("unknown_state")]
    ion_login.client.get("/login-error/")  # shows (and so consumes) the message
    newest = ion_login.callback(code="the-code", state=states[-1])
    assert messages_of(newest) == [said("already_finished")]


def test_a_corrupt_finished_record_is_started_afresh(ion_login, fake_ion):
    session = ion_login.client.session
    session["ion_ion_oauth_finished"] = "not a list"
    session.save()
    ion_login.client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    state = ion_login.begin()["state"]
    ion_login.mock_ion()

    assert ion_login.callback(code="the-code", state=state)["Location"] == "/"

    assert len(ion_login.client.session["ion_ion_oauth_finished"]) == 1


def test_the_error_carries_its_reason(ion_login):
    from social_django.utils import load_backend, load_strategy

    from ion_oauth.exceptions import IonStateError, IonStateMissing
    from ion_oauth.missing_state import state_missing

    request = ion_login.client.get("/login-error/").wsgi_request
    backend = load_backend(load_strategy(request), "ion", redirect_uri="/complete/ion/")

    error = state_missing(backend, "x" * 32, had_pending=False)

    assert isinstance(error, IonStateError)
    assert isinstance(error, IonStateMissing)
    assert error.reason == "no_session_cookie"
    assert error.code == "state_mismatch"
    assert str(error) == said("no_session_cookie")
