"""The sandbox's clock as Ion shows it: its ``Date`` header, off by an offset a test sets.

``POST /sandbox/clock/offset`` (``seconds=N``) makes the sandbox look N seconds ahead
(negative: behind) of the machine it runs on, so that ``ion_doctor``'s clock check can be
tried without touching the system clock. Only the ``Date`` header moves; tokens still
expire by the real clock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.http import http_date

#: The furthest the clock may be moved either way (a year), so a typo is refused.
MAX_OFFSET = 366 * 24 * 3600

_lock = threading.Lock()
_offset = 0


def offset() -> int:
    """Seconds the sandbox's clock is ahead of the real one (negative: behind)."""
    with _lock:
        return _offset


def set_offset(seconds: int) -> None:
    global _offset
    with _lock:
        _offset = seconds


class ClockMiddleware:
    """Send ``Date`` from the moved clock when it is moved (the server sends the real one
    otherwise)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        moved = offset()
        if moved:
            response["Date"] = http_date(time.time() + moved)
        return response
