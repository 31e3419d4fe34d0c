"""The per-process cache of Ion's OpenID Connect discovery document and signing keys.

After the first login a process knows where Ion's endpoints are and which keys sign its
ID tokens, so a login costs one request to Ion (the token exchange).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import jwt

from ion_oauth import transport
from ion_oauth.claims import parse_discovery, parse_jwks, unknown_key

if TYPE_CHECKING:
    from ion_oauth.oauth import IonOauth2

#: Seconds a fetched discovery document is used before it is fetched again.
DISCOVERY_LIFETIME = 24 * 3600
#: Seconds fetched keys are used; a key Ion withdraws stops being trusted after this.
KEYS_LIFETIME = 3600
#: An ID token signed with an unknown key refetches Ion's keys (Ion rotated them), but
#: at most once in this many seconds, so forged tokens cannot make every login a fetch.
KEY_REFETCH_INTERVAL = 60

_clock: Callable[[], float] = time.monotonic
_cache_lock = threading.Lock()
_discovery: dict[str, tuple[float, dict[str, str]]] = {}
_keys: dict[str, tuple[float, dict[str, jwt.PyJWK]]] = {}


def clear_cache() -> None:
    """Forget every discovery document and key fetched by this process."""
    with _cache_lock:
        _discovery.clear()
        _keys.clear()


def oidc_config(backend: IonOauth2, url: str, stage: str) -> dict[str, str]:
    """Ion's discovery document at ``url``, fetched once per process and checked."""
    with _cache_lock:
        cached = _discovery.get(url)
        if cached and _clock() - cached[0] < DISCOVERY_LIFETIME:
            return cached[1]
        body = transport.request_json(
            "GET",
            url,
            what="OpenID configuration",
            timeout=backend.timeout(),
            backend=backend,
            stage=stage,
            headers={"Accept": "application/json"},
        )
        config = parse_discovery(body, backend=backend, stage=stage)
        _discovery[url] = (_clock(), config)
        return config


def signing_key(backend: IonOauth2, uri: str, kid: str, stage: str) -> jwt.PyJWK:
    """The key with id ``kid`` from the key set at ``uri``; an unknown id refetches, rate-limited."""
    with _cache_lock:
        cached = _keys.get(uri)
        if cached:
            age = _clock() - cached[0]
            if kid in cached[1] and age < KEYS_LIFETIME:
                return cached[1][kid]
            if kid not in cached[1] and age < KEY_REFETCH_INTERVAL:
                raise unknown_key(backend, kid)
        body = transport.request_json(
            "GET",
            uri,
            what="signing keys",
            timeout=backend.timeout(),
            backend=backend,
            stage=stage,
            headers={"Accept": "application/json"},
        )
        keys = parse_jwks(body, backend=backend, stage=stage)
        _keys[uri] = (_clock(), keys)
    if kid not in keys:
        raise unknown_key(backend, kid)
    return keys[kid]
