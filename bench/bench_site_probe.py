"""Counters inside the example site's process: requests it sent to Ion, by path, and the
TCP connections it opened, both seen in urllib3 (under requests, under ion_oauth.transport).

Seen from the site, a new connection is a ``connect()``; the sandbox's own counter sees the
same connection as an ``accept()`` but also counts the benchmark's browsers.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from urllib3.connection import HTTPConnection

_lock = threading.Lock()
_requests: Counter[str] = Counter()
_connections: Counter[str] = Counter()
#: Connections since the process started, never reset.
_connections_total: Counter[str] = Counter()


def snapshot(*, reset: bool = False) -> dict[str, dict[str, int]]:
    """Requests by ``host:port method path`` and new connections by ``host:port``, since
    the last reset; and new connections since the process started."""
    with _lock:
        data = {
            "requests": dict(_requests),
            "connections": dict(_connections),
            "connections_total": dict(_connections_total),
        }
        if reset:
            _requests.clear()
            _connections.clear()
    return data


def install() -> None:
    """Count every ``connect()`` and ``request()`` of urllib3's HTTP connections."""
    if getattr(HTTPConnection, "_bench_counted", False):
        return
    connect = HTTPConnection.connect
    request = HTTPConnection.request

    def counted_connect(self: HTTPConnection) -> None:
        with _lock:
            _connections[f"{self.host}:{self.port}"] += 1
            _connections_total[f"{self.host}:{self.port}"] += 1
        connect(self)

    def counted_request(
        self: HTTPConnection, method: str, url: str, *args: Any, **kwargs: Any
    ) -> None:
        with _lock:
            _requests[f"{self.host}:{self.port} {method} {urlsplit(url).path}"] += 1
        request(self, method, url, *args, **kwargs)

    HTTPConnection.connect = counted_connect  # type: ignore[method-assign]
    HTTPConnection.request = counted_request  # type: ignore[method-assign]
    HTTPConnection._bench_counted = True  # type: ignore[attr-defined]


@csrf_exempt
def stats_view(request: HttpRequest) -> HttpResponse:
    """GET: the counters; POST: the counters, then back to zero."""
    data = snapshot(reset=request.method == "POST")
    return HttpResponse(json.dumps(data), content_type="application/json")
