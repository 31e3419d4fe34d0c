"""The exceptions ion-oauth raises.

Each one is a social-auth exception, so social-auth-app-django's
``SocialAuthExceptionMiddleware`` turns it into a message on ``LOGIN_ERROR_URL``, and
``str(error)`` is a sentence meant for the person who tried to log in. They work on
every supported social-auth-core: from 6.0 on they also carry its structured ``code``,
``stage`` and ``status_code``; before that the same attributes are set by hand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from social_core import exceptions as _social

if TYPE_CHECKING:
    from social_core.backends.base import BaseAuth
    from social_core.exceptions import AuthCanceled as _Canceled
    from social_core.exceptions import AuthCredentialError as _Rejected
    from social_core.exceptions import AuthInputError as _Input
    from social_core.exceptions import AuthProviderError as _Unavailable
    from social_core.exceptions import AuthResponseError as _BadResponse
    from social_core.exceptions import AuthSessionError as _Session
else:

    def _pick(current: str, older: str) -> type:
        """social-auth-core < 6 has a flatter hierarchy; take the nearest older class."""
        return getattr(_social, current, None) or getattr(_social, older)

    _Canceled = _social.AuthCanceled
    _Rejected = _pick("AuthCredentialError", "AuthFailed")
    _Input = _pick("AuthInputError", "AuthException")
    _Unavailable = _pick("AuthProviderError", "AuthUnreachableProvider")
    _BadResponse = _pick("AuthResponseError", "AuthFailed")
    _Session = _pick("AuthSessionError", "AuthStateForbidden")

_STRUCTURED = hasattr(_social.SocialAuthBaseException, "default_code")


def with_article(noun: str) -> str:
    """``noun`` after "an" if it starts with a vowel, else after "a" ("an API response", "a
    token response"), for the messages that name what Ion sent: every such noun here is read
    as it is spelt."""
    return ("an " if noun[:1].lower() in {"a", "e", "i", "o", "u"} else "a ") + noun


class IonAuthError(_social.AuthException):
    """Base class: a login or an API call failed for a reason a person can be told."""

    default_code = "unknown_error"

    def __init__(
        self,
        backend: BaseAuth[object] | None,
        message: str,
        *,
        code: str | None = None,
        stage: str = "unknown",
        status_code: int | None = None,
        retry_after: str | None = None,
        provider_error: str | None = None,
    ) -> None:
        self.message = message
        #: The OAuth ``error`` code Ion sent (``invalid_grant``...), when it sent one.
        self.provider_error = provider_error
        if _STRUCTURED:
            super().__init__(
                backend,
                message,
                code=code or self.default_code,
                stage=stage,  # type: ignore[arg-type]
                status_code=status_code,
                retry_after=retry_after,
            )
        else:  # pragma: no cover - exercised by the tox envs with social-auth-core < 6
            super().__init__(backend, message)
            self.code = code or self.default_code
            self.stage = stage  # type: ignore[assignment]
            self.status_code = status_code
            self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message


class IonUnavailable(IonAuthError, _Unavailable):
    """Ion could not be reached, was too slow, or answered 5xx / 429."""

    default_code = "unavailable"


class IonResponseError(IonAuthError, _BadResponse):
    """Ion answered something that is not what Ion sends: HTML, bad JSON, missing fields."""

    default_code = "malformed_response"


class IonRejected(IonAuthError, _Rejected):
    """Ion refused a request: wrong client credentials, a used code, a bad token."""

    default_code = "credential_rejected"


class IonLoginRequired(IonRejected):
    """Ion no longer accepts this user's refresh token; they must log in with Ion again.

    Raised when a refresh token was revoked, is older than 30 days, or the user removed
    the application on Ion.
    """

    default_code = "token_revoked"


class IonLoginCancelled(IonAuthError, _Canceled):
    """The person chose Cancel on Ion's consent page."""

    default_code = "authorization_declined"


class IonStateError(IonAuthError, _Session):
    """The callback's ``state`` is missing, forged, already used or too old."""

    default_code = "state_mismatch"


class IonCallbackError(IonAuthError, _Input):
    """The callback from Ion lacks what a callback must carry (a ``code``)."""

    default_code = "missing_parameter"


class IonApiError(IonAuthError):
    """Ion refused an API call. ``str(error)`` is Ion's own message.

    ``status_code`` is Ion's HTTP status; ``messages`` every message Ion sent (its
    ``detail``, its ``details`` list, a bare list, or each field error as
    ``"field: message"``); ``field_errors`` the per-field errors of a refused form.
    """

    # social-auth-core only knows its own codes; the class says which refusal it is.
    default_code = "http_error"

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        messages: list[str] | None = None,
        field_errors: dict[str, list[str]] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(None, message, code=code, stage="user_info", status_code=status_code)
        self.messages = list(messages or [message])
        self.field_errors = dict(field_errors or {})


class IonNotFound(IonApiError):
    """What the call asked for does not exist on Ion (HTTP 404), or the caller may not see it
    (Ion answers 404 for an announcement outside the caller's groups)."""


class IonPermissionDenied(IonApiError):
    """The user may not do this (HTTP 403 with Ion's "You do not have permission…"): a new
    token would not change that."""


class IonSignupRefused(IonApiError):
    """Ion refused an eighth-period signup. ``reason`` is one of ``"cancelled"``,
    ``"restricted"``, ``"sticky"``, ``"full"``, ``"locked"``, ``"not_allowed"`` (the person
    may not be signed up, e.g. a teacher) or ``"other"``; ``reasons`` all of them when Ion
    gave several; ``str(error)`` is Ion's message, to show as it is."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        messages: list[str] | None = None,
        reasons: list[str] | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, messages=messages)
        self.reasons = list(reasons or ["other"])
        self.reason = self.reasons[0]


class IonStateMissing(IonStateError):
    """No pending login matches the callback's ``state``; ``reason`` says why.

    One of ``no_session_cookie``, ``unknown_session``, ``never_started``,
    ``already_finished``, ``unknown_state`` (see :mod:`ion_oauth.missing_state`).
    """

    default_code = "state_mismatch"

    def __init__(
        self, backend: BaseAuth[object] | None, message: str, *, reason: str, stage: str
    ) -> None:
        super().__init__(backend, message, stage=stage)
        self.reason = reason
