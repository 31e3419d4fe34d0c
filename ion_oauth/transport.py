"""The one path every request to Ion takes.

One ``requests.Session`` per process keeps connections to Ion open across requests and
logins (against the real Ion each new connection costs a TLS handshake). Every call has a
timeout and a User-Agent, reads at most :data:`MAX_BODY` bytes, and turns every failure,
network or HTTP, into one of the exceptions in :mod:`ion_oauth.exceptions`.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Mapping
from http.cookiejar import DefaultCookiePolicy
from typing import TYPE_CHECKING, Any

import requests
import urllib3
from requests.adapters import HTTPAdapter

from ion_oauth import __version__
from ion_oauth.exceptions import (
    IonRejected,
    IonResponseError,
    IonUnavailable,
)

if TYPE_CHECKING:
    from social_core.backends.base import BaseAuth

logger = logging.getLogger("ion_oauth")

USER_AGENT = f"ion-oauth/{__version__} python-requests/{requests.__version__}"
#: Ion's largest answer (a profile) is about 1 KiB; anything near this is not Ion.
MAX_BODY = 1024 * 1024

_session: requests.Session | None = None
_session_lock = threading.Lock()
_OAUTH_ERROR = re.compile(r"^[a-z_]{1,64}$")
#: Retry-After as delay-seconds (an HTTP date is possible too; then we just say "later").
_RETRY_SECONDS = re.compile(r"[0-9]{1,5}")


def get_session() -> requests.Session:
    """Return the process-wide session that pools connections to Ion."""
    global _session
    if _session is None:
        with _session_lock:
            if _session is None:
                session = requests.Session()
                # Calls to Ion stand alone; a cookie Ion sets must not leak into
                # the next user's request.
                session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
                adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32)
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                session.headers["User-Agent"] = USER_AGENT
                _session = session
    return _session


def request_json(
    method: str,
    url: str,
    *,
    what: str,
    timeout: float,
    backend: BaseAuth[object] | None = None,
    stage: str = "unknown",
    headers: Mapping[str, str] | None = None,
    data: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """Send one request to Ion and return its JSON object.

    ``what`` names the request in messages and logs ("token", "profile"...). Raises
    :class:`~ion_oauth.exceptions.IonUnavailable`, ``IonRejected`` or
    ``IonResponseError``; never a ``requests`` exception.
    """
    status, body, response_headers = send(
        method,
        url,
        what=what,
        timeout=timeout,
        backend=backend,
        stage=stage,
        headers=headers,
        data=data,
        auth=auth,
    )
    return check_response(status, body, response_headers, what=what, backend=backend, stage=stage)


def send(
    method: str,
    url: str,
    *,
    what: str,
    timeout: float,
    backend: BaseAuth[object] | None = None,
    stage: str = "unknown",
    headers: Mapping[str, str] | None = None,
    data: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> tuple[int, bytes, Mapping[str, str]]:
    """Send one request and read its body; network failures become ``IonUnavailable``."""
    try:
        response = get_session().request(
            method,
            url,
            headers=dict(headers or {}),
            data=dict(data) if data is not None else None,
            auth=auth,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        )
        try:
            body = _read_capped(response, what=what, backend=backend, stage=stage)
        finally:
            response.close()
    except requests.Timeout as error:
        logger.warning(
            "Ion %s request timed out after %ss: %s %s", what, timeout, method, _safe(url)
        )
        raise IonUnavailable(
            backend,
            f"Ion did not answer within {timeout:g} seconds. Please try again in a few minutes.",
            code="timeout",
            stage=stage,
        ) from error
    except requests.RequestException as error:
        logger.warning(
            "Ion %s request failed: %s %s: %s", what, method, _safe(url), type(error).__name__
        )
        raise IonUnavailable(
            backend,
            "Ion could not be reached. Please try again in a few minutes.",
            code="connection_failed",
            stage=stage,
        ) from error
    return response.status_code, body, response.headers


def _read_capped(
    response: requests.Response, *, what: str, backend: BaseAuth[object] | None, stage: str
) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(chunk_size=64 * 1024):
            size += len(chunk)
            if size > MAX_BODY:
                logger.warning("Ion %s response is larger than %s bytes", what, MAX_BODY)
                raise IonResponseError(
                    backend,
                    f"Ion sent an unexpectedly large {what} response. Please try again later.",
                    code="malformed_response",
                    stage=stage,
                )
            chunks.append(chunk)
    except requests.ConnectionError as error:
        # requests reports a read timeout while streaming the body as a ConnectionError
        # around urllib3's ReadTimeoutError; to the person waiting it is a timeout.
        if error.args and isinstance(error.args[0], urllib3.exceptions.ReadTimeoutError):
            raise requests.ReadTimeout(*error.args, response=response) from error
        raise
    return b"".join(chunks)


def check_response(
    status: int,
    body: bytes,
    headers: Mapping[str, str],
    *,
    what: str,
    backend: BaseAuth[object] | None = None,
    stage: str = "unknown",
) -> dict[str, Any]:
    """Turn one answer from Ion into its JSON object, or raise the one fitting error.

    A pure function of the status, body and headers, so every branch is tested on its own.
    """
    if 200 <= status < 300:
        data = _decode_json(body)
        if not isinstance(data, dict):
            logger.warning("Ion %s response (HTTP %s) is not a JSON object", what, status)
            raise IonResponseError(
                backend,
                f"Ion sent a {what} response this site could not read. Please try again later.",
                code="malformed_response",
                stage=stage,
                status_code=status,
            )
        return data

    payload = _decode_json(body)
    error = payload.get("error") if isinstance(payload, dict) else None
    error = error if isinstance(error, str) and _OAUTH_ERROR.match(error) else None
    logger.warning("Ion %s request failed: HTTP %s error=%s", what, status, error or "-")

    if status == 429:
        retry_after = headers.get("Retry-After")
        seconds = retry_after and _RETRY_SECONDS.fullmatch(retry_after)
        wait = f" in {retry_after} seconds" if seconds else " later"
        raise IonUnavailable(
            backend,
            f"Ion is receiving too many requests. Please try again{wait}.",
            code="rate_limited",
            stage=stage,
            status_code=status,
            retry_after=retry_after,
        )
    if status >= 500:
        raise IonUnavailable(
            backend,
            f"Ion is having trouble right now (HTTP {status}). Please try again in a few minutes.",
            code="unavailable",
            stage=stage,
            status_code=status,
        )
    if 300 <= status < 400:
        raise IonResponseError(
            backend,
            f"Ion answered the {what} request with a redirect (HTTP {status}); "
            "the site's SOCIAL_AUTH_ION_BASE_URL may be wrong.",
            code="http_error",
            stage=stage,
            status_code=status,
        )
    if status == 401 or error == "invalid_client":
        raise IonRejected(
            backend,
            "Ion did not accept this site's client credentials. The site's administrator "
            "should check SOCIAL_AUTH_ION_KEY and SOCIAL_AUTH_ION_SECRET.",
            code="credential_rejected",
            stage=stage,
            status_code=status,
            provider_error=error,
        )
    if error == "invalid_grant":
        raise IonRejected(
            backend,
            "Ion did not accept the sign-in code: it expired or was already used. "
            "Please log in again.",
            code="authorization_code_rejected",
            stage=stage,
            status_code=status,
            provider_error=error,
        )
    detail = f", {error}" if error else ""
    raise IonRejected(
        backend,
        f"Ion refused the {what} request (HTTP {status}{detail}).",
        code="http_error",
        stage=stage,
        status_code=status,
        provider_error=error,
    )


_NOT_JSON = object()


def _decode_json(body: bytes) -> Any:
    """Strict UTF-8 JSON, or a sentinel that is not a dict for anything else."""
    try:
        data = json.loads(body.decode("utf-8"))
        # "\ud800" is valid JSON but not text: no database can store a lone surrogate.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except (UnicodeError, ValueError, RecursionError):
        return _NOT_JSON
    return data


def _safe(url: str) -> str:
    """The URL without its query string, which is the only place a secret could hide."""
    return url.split("?", 1)[0]
