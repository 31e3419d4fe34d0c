"""The sandbox's control endpoints (``/sandbox/...``): who may call them.

They change what every client of the sandbox sees (tokens expire, counters reset...), so
each is wrapped in :func:`control_endpoint`: it answers only requests from loopback that
carry this run's control token in the ``X-Ion-Sandbox-Token`` header. The token comes from
``ION_SANDBOX_CONTROL_TOKEN`` (``IonSandbox`` sets it and sends it), or is made at start
and printed in the banner. A new control endpoint is a view under ``sandbox/`` decorated
with ``@control_endpoint``; a test fails for any ``sandbox/`` route without it.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import os
import secrets
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

#: The request header that carries the control token.
HEADER = "X-Ion-Sandbox-Token"
#: The environment variable the token is read from.
TOKEN_ENV = "ION_SANDBOX_CONTROL_TOKEN"  # noqa: S105 - a variable name
#: Marks a view as a control endpoint, for the test that lists them.
MARKER = "ion_sandbox_control_endpoint"

NOT_LOOPBACK = {"detail": "Sandbox control endpoints answer only requests from loopback."}
BAD_TOKEN = {"detail": f"Sandbox control endpoints need this run's {HEADER} header."}


def ensure_token() -> str:
    """This run's control token: ``ION_SANDBOX_CONTROL_TOKEN``, made and set if unset."""
    token = os.environ.get(TOKEN_ENV)
    if not token:
        token = secrets.token_urlsafe(32)
        os.environ[TOKEN_ENV] = token
    return token


def is_loopback(address: str) -> bool:
    """Whether a peer address (``REMOTE_ADDR``) is this host's loopback."""
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def control_endpoint(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let ``view`` answer only loopback requests carrying the control token (else 403).

    CSRF does not apply: no browser holds the token, so no other site can make one send it.
    """

    @functools.wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_loopback(request.META.get("REMOTE_ADDR", "")):
            return JsonResponse(NOT_LOOPBACK, status=403)
        expected = os.environ.get(TOKEN_ENV, "")
        given = request.headers.get(HEADER, "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            return JsonResponse(BAD_TOKEN, status=403)
        return view(request, *args, **kwargs)

    setattr(guarded, MARKER, True)
    return csrf_exempt(guarded)
