"""Counters the sandbox keeps since it started, for ``GET /sandbox/stats``.

The server runs one thread per connection, so every update holds a lock.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

_lock = threading.Lock()
_token_requests: Counter[str] = Counter()
_counts: Counter[str] = Counter()

#: Grant types always present in the report, so a test can compare with 0.
REPORTED_GRANTS = ("authorization_code", "refresh_token")


def count_token_request(grant_type: str) -> None:
    """Count one request to the token endpoint, by its ``grant_type``."""
    with _lock:
        _token_requests[grant_type] += 1


def count(name: str) -> None:
    """Count one event: ``profile_requests`` or ``connections``."""
    with _lock:
        _counts[name] += 1


def snapshot() -> dict[str, Any]:
    """The counters as ``/sandbox/stats`` reports them."""
    with _lock:
        tokens = dict.fromkeys(REPORTED_GRANTS, 0)
        tokens.update(_token_requests)
        return {
            "token_requests": tokens,
            "profile_requests": _counts["profile_requests"],
            "connections": _counts["connections"],
        }


def reset() -> None:
    """Start every counter again from zero."""
    with _lock:
        _token_requests.clear()
        _counts.clear()
