"""Ion refuses requests sent from another site's pages: an ``Origin`` header that is not
Ion's own gets 401. Server-to-server calls send no ``Origin``, and the sandbox's own forms
send its own, so only browser code calling Ion from another origin is turned away."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class SameOriginMiddleware:
    """Answer 401 to a request whose ``Origin`` is not the sandbox's."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        origin = request.headers.get("Origin")
        if origin is not None and origin != f"{request.scheme}://{request.get_host()}":
            # Ion's answer, as recorded: a bare 401 with an empty HTML body.
            return HttpResponse(status=401, content_type="text/html; charset=utf-8")
        return self.get_response(request)
