"""The per-process cache of Ion's OpenID Connect discovery document and signing keys.

After the first login a process knows where Ion's endpoints are and which keys sign its
ID tokens, so a login costs one request to Ion (the token exchange).

No lock is held while Ion is asked: the lock guards only reading and writing the cache.
A fetch is single-flight per URL: while one caller fetches, the others use what the cache
already holds if it serves them (a stale document, keys that have the key id they need),
and otherwise wait for that one fetch and share its outcome instead of asking Ion again.
A failed fetch is remembered for :data:`FAILURE_LIFETIME` seconds: meanwhile callers use a
stale value if there is one, or fail at once with the same error, so a slow or failing Ion
is asked once, not once per login.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

import jwt

from ion_oauth import transport
from ion_oauth.claims import parse_discovery, parse_jwks, unknown_key
from ion_oauth.exceptions import IonAuthError, IonUnavailable

if TYPE_CHECKING:
    from ion_oauth.oauth import IonOauth2

#: Seconds a fetched discovery document is used before it is fetched again.
DISCOVERY_LIFETIME = 24 * 3600
#: Seconds fetched keys are used; a key Ion withdraws stops being trusted after this.
KEYS_LIFETIME = 3600
#: An ID token signed with an unknown key refetches Ion's keys (Ion rotated them), but
#: at most once in this many seconds, so forged tokens cannot make every login a fetch.
KEY_REFETCH_INTERVAL = 60
#: Seconds a failed fetch is remembered: logins meanwhile fail at once (or use a stale
#: value) instead of each waiting for Ion again.
FAILURE_LIFETIME = 5

T = TypeVar("T")

_clock: Callable[[], float] = time.monotonic
_cache_lock = threading.Lock()


@dataclass
class _Flight:
    """One fetch in progress; whoever waits for it reads its error once ``done`` is set."""

    done: threading.Event = field(default_factory=threading.Event)
    error: IonAuthError | None = None


@dataclass
class _Cache(Generic[T]):
    """Fetched values, recent failures and fetches in progress, each by URL."""

    values: dict[str, tuple[float, T]] = field(default_factory=dict)
    failures: dict[str, tuple[float, IonAuthError]] = field(default_factory=dict)
    flights: dict[str, _Flight] = field(default_factory=dict)

    def clear(self) -> None:
        self.values.clear()
        self.failures.clear()


_discovery: _Cache[dict[str, str]] = _Cache()
_keys: _Cache[dict[str, jwt.PyJWK]] = _Cache()


def clear_cache() -> None:
    """Forget every discovery document, key and failure this process remembers."""
    with _cache_lock:
        _discovery.clear()
        _keys.clear()


def oidc_config(backend: IonOauth2, url: str, stage: str) -> dict[str, str]:
    """Ion's discovery document at ``url``, fetched once per process and checked."""

    def fetch() -> dict[str, str]:
        body = transport.request_json(
            "GET",
            url,
            what="OpenID configuration",
            timeout=backend.timeout(),
            backend=backend,
            stage=stage,
            headers={"Accept": "application/json"},
        )
        return parse_discovery(body, backend=backend, stage=stage, base_url=backend.base_url())

    _fetched_at, config = _get(
        _discovery,
        url,
        fresh=lambda age, _config: age < DISCOVERY_LIFETIME,
        stale_serves=lambda _config: True,
        fetch=fetch,
        backend=backend,
        stage=stage,
    )
    return config


def signing_key(backend: IonOauth2, uri: str, kid: str, stage: str) -> jwt.PyJWK:
    """The key with id ``kid`` from the key set at ``uri``; an unknown id refetches, rate-limited."""

    def fetch() -> dict[str, jwt.PyJWK]:
        body = transport.request_json(
            "GET",
            uri,
            what="signing keys",
            timeout=backend.timeout(),
            backend=backend,
            stage=stage,
            headers={"Accept": "application/json"},
        )
        return parse_jwks(body, backend=backend, stage=stage)

    _fetched_at, keys = _get(
        _keys,
        uri,
        # Fresh enough: the key is there and young, or it is missing but the keys were
        # fetched too recently to ask Ion again.
        fresh=lambda age, keys: age < (KEYS_LIFETIME if kid in keys else KEY_REFETCH_INTERVAL),
        stale_serves=lambda keys: kid in keys,
        fetch=fetch,
        backend=backend,
        stage=stage,
    )
    if kid not in keys:
        raise unknown_key(backend, kid)
    return keys[kid]


def _get(
    cache: _Cache[T],
    url: str,
    *,
    fresh: Callable[[float, T], bool],
    stale_serves: Callable[[T], bool],
    fetch: Callable[[], T],
    backend: IonOauth2,
    stage: str,
) -> tuple[float, T]:
    """The cached ``(fetched_at, value)`` for ``url``, fetched single-flight when needed."""
    while True:
        with _cache_lock:
            now = _clock()
            cached = cache.values.get(url)
            if cached and fresh(now - cached[0], cached[1]):
                return cached
            stale = cached if cached and stale_serves(cached[1]) else None
            flight = cache.flights.get(url)
            leading = flight is None
            if flight is not None:
                if stale:
                    return stale
            else:
                failed = cache.failures.get(url)
                if failed and now - failed[0] < FAILURE_LIFETIME:
                    if stale:
                        return stale
                    raise _again(failed[1], backend, stage)
                flight = cache.flights[url] = _Flight()
        if leading:
            return _lead(cache, url, flight, fetch)
        # Someone else is asking Ion: wait for their answer rather than asking again.
        timeout = backend.timeout()
        if not flight.done.wait(timeout):
            raise IonUnavailable(
                backend,
                f"Ion did not answer within {timeout:g} seconds. "
                "Please try again in a few minutes.",
                code="timeout",
                stage=stage,
            )
        if flight.error is not None:
            raise _again(flight.error, backend, stage)


def _lead(cache: _Cache[T], url: str, flight: _Flight, fetch: Callable[[], T]) -> tuple[float, T]:
    """Fetch ``url`` for everyone waiting on ``flight``, without holding the lock."""
    try:
        value = fetch()
    except IonAuthError as error:
        with _cache_lock:
            cache.failures[url] = (_clock(), error)
            flight.error = error
            del cache.flights[url]
        flight.done.set()
        raise
    except BaseException:
        # Not Ion's fault (a bug): nothing to remember; waiters will try themselves.
        with _cache_lock:
            del cache.flights[url]
        flight.done.set()
        raise
    with _cache_lock:
        entry = cache.values[url] = (_clock(), value)
        cache.failures.pop(url, None)
        del cache.flights[url]
    flight.done.set()
    return entry


def _again(error: IonAuthError, backend: IonOauth2, stage: str) -> IonAuthError:
    """A new error like ``error`` (an exception object is not shared between threads)."""
    return type(error)(
        backend,
        error.message,
        code=error.code,
        stage=stage,
        status_code=error.status_code,
        retry_after=error.retry_after,
        provider_error=error.provider_error,
    )
