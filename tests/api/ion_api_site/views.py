"""A page that makes a live call to Ion's API as the logged-in user."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse

from ion_oauth.api import IonClient


@login_required
def ion_profile(request: HttpRequest) -> HttpResponse:
    """The user's profile, fresh from Ion; IonLoginRequired is left to the middleware."""
    profile = IonClient.for_user(request.user).get("profile")
    return JsonResponse({"ion_username": profile["ion_username"], "id": profile["id"]})
