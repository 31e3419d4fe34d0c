"""URLs of the benchmark's in-process site: social-auth's login and callback views only."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def page(request: HttpRequest) -> HttpResponse:
    """Where a login ends (``/``) or fails (``/login-error/``): an empty page."""
    return HttpResponse(b"")


urlpatterns = [
    path("", page),
    path("login-error/", page),
    path("", include("social_django.urls", namespace="social")),
]
