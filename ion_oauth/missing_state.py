"""Why a callback's ``state`` matched no login: told apart from what the request shows.

"Session value state missing" is the failure python-social-auth sites report most. The
callback alone tells several causes apart, and each has a different fix:

- no session cookie at all: the browser did not send this site's cookie back
  (``SESSION_COOKIE_SAMESITE = "Strict"``, ``SESSION_COOKIE_SECURE`` on plain http, or the
  login began on another host name, such as 127.0.0.1 versus localhost);
- a session cookie this site has no session for: it expired, or another site on the same
  host name (a development Ion) replaced it with its own cookie of the same name;
- a session that never started an Ion login: another browser, or a bookmarked callback;
- a login already finished: the callback was reloaded or replayed;
- a session with other logins pending but not this one: a forged or foreign ``state``.

The person gets a short sentence; the log line on ``ion_oauth`` gets the diagnosis. The
session keeps a short record of finished logins (hashes of their states, never the states)
so that a replay can be named.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings

from ion_oauth.exceptions import IonStateMissing

if TYPE_CHECKING:
    from ion_oauth.oauth import IonOauth2

logger = logging.getLogger("ion_oauth")

#: How many finished logins a session remembers, to tell a replay from a stranger.
REMEMBER_FINISHED = 5

#: Reason -> (the sentence the person sees, the diagnosis for the log).
REASONS: dict[str, tuple[str, str]] = {
    "no_session_cookie": (
        "Your browser did not send this site's cookie back, so the login could not be "
        "finished. Please log in again.",
        "the browser sent no session cookie ({cookie}) with the callback. Usual causes: "
        "SESSION_COOKIE_SAMESITE = 'Strict'; SESSION_COOKIE_SECURE on a plain-http site; "
        "the login began on another host name (127.0.0.1 versus localhost); cookies "
        "blocked. Run manage.py ion_doctor.",
    ),
    "unknown_session": (
        "Your session on this site ended before the login finished. Please log in again.",
        "the browser sent a session cookie ({cookie}) this site has no session for: it "
        "expired or was cleared, SECRET_KEY changed, or another site on the same host name "
        "(a development Ion) replaced it with its own cookie of that name "
        "(set SESSION_COOKIE_NAME to a name of your own). Run manage.py ion_doctor.",
    ),
    "never_started": (
        "This answer from Ion belongs to a login that was not started in this browser. "
        "Please log in again.",
        "the session never started an Ion login here: the callback was opened in another "
        "browser, or from a bookmark or a shared link.",
    ),
    "already_finished": (
        "This login was already finished; its answer from Ion cannot be used twice. "
        "Please log in again.",
        "the state belongs to a login this session already finished: the callback was "
        "reloaded, opened twice, or replayed.",
    ),
    "unknown_state": (
        "This answer from Ion does not belong to a login started in this browser, "
        "or it was used already. Please log in again.",
        "the state matches none of the logins this session has pending: forged, or from a "
        "login started elsewhere.",
    ),
}


def _finished_key(backend: IonOauth2) -> str:
    return f"{backend.name}_ion_oauth_finished"


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def remember_finished(backend: IonOauth2, state: str) -> None:
    """Record that ``state``'s login was consumed, so that a replay can be told apart."""
    stored = backend.strategy.session_get(_finished_key(backend))
    finished = [d for d in stored if isinstance(d, str)] if isinstance(stored, list) else []
    finished.append(_digest(state))
    backend.strategy.session_set(_finished_key(backend), finished[-REMEMBER_FINISHED:])


def diagnose(backend: IonOauth2, state: str, *, had_pending: bool) -> str:
    """The reason (a key of :data:`REASONS`) no pending login matched ``state``.

    ``had_pending``: the session held the backend's pending-login record before this
    callback (even an empty one: a login was started here at some point).
    """
    request: Any = getattr(backend.strategy, "request", None)
    session: Any = getattr(request, "session", None)
    cookie_name = settings.SESSION_COOKIE_NAME
    if request is not None and cookie_name not in request.COOKIES:
        return "no_session_cookie"
    finished = backend.strategy.session_get(_finished_key(backend))
    if isinstance(finished, list) and _digest(state) in finished:
        return "already_finished"
    if session is not None and not session.keys():
        return "unknown_session"
    if not had_pending:
        return "never_started"
    return "unknown_state"


def state_missing(backend: IonOauth2, state: str, *, had_pending: bool) -> IonStateMissing:
    """The error for a callback whose ``state`` matched no pending login; logs the cause."""
    reason = diagnose(backend, state, had_pending=had_pending)
    message, diagnosis = REASONS[reason]
    logger.warning(
        "Ion login callback refused (%s, backend %s): %s",
        reason,
        backend.name,
        diagnosis.format(cookie=settings.SESSION_COOKIE_NAME),
    )
    return IonStateMissing(backend, message, reason=reason, stage="callback")
