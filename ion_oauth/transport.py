"""The one path every request to Ion takes.

One ``requests.Session`` per process keeps connections to Ion open across requests and
logins (against the real Ion each new connection costs a TLS handshake). Every call has a
User-Agent and a total deadline (connect and every read together, on a monotonic clock),
asks for an uncompressed body and reads at most :data:`MAX_BODY` bytes of it (decoded, if
Ion compresses it anyway), and turns every failure, network or HTTP, into one of the
exceptions in :mod:`ion_oauth.exceptions`.

A pooled connection can die while idle: Ion (or a proxy in front of it) closes keep-alive
connections after a few seconds. So a connection idle longer than
``SOCIAL_AUTH_ION_MAX_IDLE`` is not reused, and a request that a *reused* connection lost
before any byte of the answer arrived is sent once more on a new connection, if it may be
sent twice (GETs, and the token request: see :func:`send`). Nothing is ever resent after
an answer has begun, after a timeout, or when the connection was new.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import socket
import threading
import time
import zlib
from collections.abc import Mapping
from http.cookiejar import DefaultCookiePolicy
from typing import TYPE_CHECKING, Any

import requests
import urllib3
from django.conf import settings
from django.views.decorators.debug import sensitive_variables
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from ion_oauth import __version__
from ion_oauth.conf import DEFAULTS, ion_settings
from ion_oauth.exceptions import (
    IonRejected,
    IonResponseError,
    IonUnavailable,
    with_article,
)

if TYPE_CHECKING:
    from social_core.backends.base import BaseAuth

logger = logging.getLogger("ion_oauth")

USER_AGENT = f"ion-oauth/{__version__} python-requests/{requests.__version__}"
#: Ion's largest answer (a profile) is about 1 KiB; anything near this is not Ion.
MAX_BODY = 1024 * 1024

#: Methods sent again without being asked to (see :func:`send`'s ``replayable``).
REPLAYABLE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: What a connection dying in the middle of a request looks like from ``http.client``:
#: ``RemoteDisconnected`` (no byte of the status line came) is a ``ConnectionResetError``.
_DEAD_CONNECTION = (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)

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
                adapter = _IonAdapter(pool_connections=4, pool_maxsize=32)
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                session.headers["User-Agent"] = USER_AGENT
                # Ion's answers are about 1 KiB: compression saves nothing worth a
                # decompression bomb. (A compressed answer is still decoded, capped.)
                session.headers["Accept-Encoding"] = "identity"
                _session = session
    return _session


@sensitive_variables()
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
    replayable: bool | None = None,
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
        replayable=replayable,
    )
    return check_response(status, body, response_headers, what=what, backend=backend, stage=stage)


@sensitive_variables()
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
    replayable: bool | None = None,
) -> tuple[int, bytes, Mapping[str, str]]:
    """Send one request and read its body; network failures become ``IonUnavailable``.

    ``timeout`` is the deadline for the whole request: connecting, sending, and every
    read of the answer together. ``replayable`` says whether the request may reach Ion
    twice when a reused connection died before answering; the default is yes for
    :data:`REPLAYABLE_METHODS` and no for anything else (an API POST is not resent).
    The token request passes ``True``: a server that closed an idle connection did not
    process it, and if it somehow did, the resent code gets ``invalid_grant``.
    """
    if replayable is None:
        replayable = method.upper() in REPLAYABLE_METHODS
    call = _Call(time.monotonic() + timeout, _max_idle())
    outer = getattr(_local, "call", None)
    _local.call = call
    _watchdog.add(call)
    try:
        while True:
            try:
                return _attempt(
                    method,
                    url,
                    what=what,
                    # Per socket operation; the watchdog holds the total to the deadline.
                    timeout=max(call.remaining(), 0.001) if call.fresh_only else timeout,
                    backend=backend,
                    stage=stage,
                    headers=headers,
                    data=data,
                    auth=auth,
                )
            except requests.RequestException as error:
                if call.expired or isinstance(error, requests.Timeout):
                    logger.warning(
                        "Ion %s request timed out after %ss: %s %s",
                        what,
                        timeout,
                        method,
                        _safe(url),
                    )
                    raise IonUnavailable(
                        backend,
                        f"Ion did not answer within {timeout:g} seconds. "
                        "Please try again in a few minutes.",
                        code="timeout",
                        stage=stage,
                    ) from error
                if (
                    call.dead_reused
                    and replayable
                    and not call.fresh_only
                    and isinstance(error, requests.ConnectionError)
                    and call.remaining() > 0
                ):
                    # Routine: Ion closed a keep-alive connection this process kept.
                    logger.debug(
                        "Ion closed a kept-alive connection before answering the %s request; "
                        "sending it again on a new connection",
                        what,
                    )
                    call.fresh_only = True
                    call.dead_reused = False
                    continue
                logger.warning(
                    "Ion %s request failed: %s %s: %s",
                    what,
                    method,
                    _safe(url),
                    type(error).__name__,
                )
                raise IonUnavailable(
                    backend,
                    "Ion could not be reached. Please try again in a few minutes.",
                    code="connection_failed",
                    stage=stage,
                ) from error
    finally:
        _watchdog.remove(call)
        _local.call = outer


@sensitive_variables()
def _attempt(
    method: str,
    url: str,
    *,
    what: str,
    timeout: float,
    backend: BaseAuth[object] | None,
    stage: str,
    headers: Mapping[str, str] | None,
    data: Mapping[str, str] | None,
    auth: tuple[str, str] | None,
) -> tuple[int, bytes, Mapping[str, str]]:
    """One try at a request: send it and read the whole (capped) body."""
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
    return response.status_code, body, response.headers


@sensitive_variables()
def _read_capped(
    response: requests.Response, *, what: str, backend: BaseAuth[object] | None, stage: str
) -> bytes:
    """The body, at most :data:`MAX_BODY` bytes after decoding, decoded here with that cap.

    urllib3 1.26 (which ``requests>=2.31`` allows) inflates a whole compressed read before
    anyone can count it, so the raw bytes are read and inflated here, ``MAX_BODY`` at most.
    """
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    inflater = None
    if encoding in {"gzip", "x-gzip", "deflate"}:
        # 32 + MAX_WBITS: a gzip or a zlib header, whichever it is.
        inflater = zlib.decompressobj(32 + zlib.MAX_WBITS)
    elif encoding not in {"identity", ""}:
        logger.warning("Ion %s response has an unknown Content-Encoding", what)
        raise _unreadable(what, backend, stage, response.status_code)
    chunks: list[bytes] = []
    size = 0
    try:
        for raw in response.raw.stream(64 * 1024, decode_content=False):
            chunk = inflater.decompress(raw, MAX_BODY + 1 - size) if inflater else raw
            size += len(chunk)
            if size > MAX_BODY:
                logger.warning("Ion %s response is larger than %s bytes", what, MAX_BODY)
                raise IonResponseError(
                    backend,
                    f"Ion sent an unexpectedly large {what} response. Please try again later.",
                    code="malformed_response",
                    stage=stage,
                    status_code=response.status_code,
                )
            chunks.append(chunk)
        if inflater is not None and not inflater.eof:
            raise zlib.error("the compressed body ends early")
    except zlib.error as error:
        logger.warning("Ion %s response could not be decompressed", what)
        raise _unreadable(what, backend, stage, response.status_code) from error
    except urllib3.exceptions.ReadTimeoutError as error:
        raise requests.ReadTimeout(error, response=response) from error
    except urllib3.exceptions.SSLError as error:
        raise requests.exceptions.SSLError(error, response=response) from error
    except urllib3.exceptions.ProtocolError as error:
        # A reset or a cut mid-body: the answer had begun, so it is never resent.
        raise requests.exceptions.ChunkedEncodingError(error, response=response) from error
    except (urllib3.exceptions.HTTPError, OSError) as error:
        raise requests.ConnectionError(error, response=response) from error
    return b"".join(chunks)


def _unreadable(
    what: str, backend: BaseAuth[object] | None, stage: str, status: int
) -> IonResponseError:
    return IonResponseError(
        backend,
        f"Ion sent {with_article(what)} response this site could not read. Please try again later.",
        code="malformed_response",
        stage=stage,
        status_code=status,
    )


# -- connections that know their age --------------------------------------------------


def _max_idle() -> float:
    """``SOCIAL_AUTH_ION_MAX_IDLE``, or its default where there are no Django settings
    (the API client works in a plain script)."""
    if settings.configured:
        return ion_settings.MAX_IDLE
    return float(DEFAULTS["MAX_IDLE"])


class _Call:
    """One :func:`send` in progress, as the connections it uses (same thread) see it."""

    __slots__ = ("dead_reused", "deadline", "expired", "fresh_only", "max_idle", "reused", "sock")

    def __init__(self, deadline: float, max_idle: float) -> None:
        self.deadline = deadline
        self.max_idle = max_idle
        #: The connection in use had answered a request before this one.
        self.reused = False
        #: It died before any byte of this request's answer arrived.
        self.dead_reused = False
        #: Resending: use a new connection whatever the pool offers.
        self.fresh_only = False
        #: The deadline passed; the watchdog shut the socket down.
        self.expired = False
        self.sock: socket.socket | None = None

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


_local = threading.local()


def _current_call() -> _Call | None:
    call: _Call | None = getattr(_local, "call", None)
    return call


class _TrackedConnection(HTTPConnection):
    """A pooled connection that counts the answers it carried and knows when it was idle."""

    _ion_answered = 0
    _ion_last_answer = 0.0

    def connect(self) -> None:
        super().connect()
        self._ion_answered = 0

    def request(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        call = _current_call()
        if call is not None:
            if (
                self.sock is not None
                and self._ion_answered
                and (call.fresh_only or time.monotonic() - self._ion_last_answer > call.max_idle)
            ):
                self.close()
            if self.sock is None:
                self.connect()
            call.reused = self._ion_answered > 0
            _watchdog.attach(call, self.sock)
        try:
            super().request(*args, **kwargs)
        except _DEAD_CONNECTION:
            if call is not None:
                call.dead_reused = call.reused
            raise

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        call = _current_call()
        try:
            response = super().getresponse(*args, **kwargs)
        except _DEAD_CONNECTION:
            if call is not None:
                call.dead_reused = call.reused
            raise
        self._ion_answered += 1
        self._ion_last_answer = time.monotonic()
        return response


class _TrackedHTTPSConnection(_TrackedConnection, HTTPSConnection):
    pass


class _IonHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _TrackedConnection


class _IonHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _TrackedHTTPSConnection


class _IonAdapter(HTTPAdapter):
    """requests' adapter, with connections that know how long they were idle."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _IonHTTPConnectionPool,
            "https": _IonHTTPSConnectionPool,
        }


class _Watchdog:
    """One thread that shuts down the socket of every request past its deadline.

    A socket timeout bounds each read, not their sum: an answer trickled a byte at a
    time would never end. Shutting the socket down makes the blocked read return.
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._condition = threading.Condition()
        self._calls: set[_Call] = set()
        self._thread: threading.Thread | None = None

    def add(self, call: _Call) -> None:
        with self._condition:
            self._calls.add(call)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="ion-oauth-deadlines", daemon=True
                )
                self._thread.start()
            self._condition.notify()

    def attach(self, call: _Call, sock: socket.socket | None) -> None:
        with self._condition:
            call.sock = sock
            if call.expired:
                _shut(sock)

    def remove(self, call: _Call) -> None:
        with self._condition:
            self._calls.discard(call)

    def _run(self) -> None:
        with self._condition:
            while True:
                now = time.monotonic()
                for call in [call for call in self._calls if call.deadline <= now]:
                    self._calls.discard(call)
                    call.expired = True
                    _shut(call.sock)
                wait = min((call.deadline for call in self._calls), default=now + 60) - now
                self._condition.wait(wait)


def _shut(sock: socket.socket | None) -> None:
    if sock is not None:
        # The plain socket's shutdown, also for TLS: it only has to wake the reader.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


_watchdog = _Watchdog()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_watchdog._reset)


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
            raise _unreadable(what, backend, stage, status)
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
