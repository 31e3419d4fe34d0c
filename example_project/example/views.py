"""The example's two pages: home (log in, or who you are on Ion) and the login-error page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    """The login button, or the logged-in person's name and what Ion told us about them."""
    ion = None
    if request.user.is_authenticated:
        # The pipeline step load_extra_data keeps Ion's fields on the social account.
        account = request.user.social_auth.filter(provider="ion").first()
        ion = account.extra_data if account else None
    return render(request, "example/home.html", {"ion": ion})


def login_error(request: HttpRequest) -> HttpResponse:
    """Where SocialAuthExceptionMiddleware sends a failed login; shows its message."""
    return render(request, "example/login_error.html")
