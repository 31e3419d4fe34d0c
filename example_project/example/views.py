"""The example's pages: home (log in, or who you are on Ion) and a live Ion API call. The
login-error page and logout are ion-oauth's (``ion_oauth.urls``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ion_oauth.api import IonClient
from ion_oauth.exceptions import IonAuthError, IonLoginRequired
from ion_oauth.middleware import relogin_with_ion


def home(request: HttpRequest) -> HttpResponse:
    """The login button, or the logged-in person's name and what Ion told us about them."""
    ion = None
    if request.user.is_authenticated:
        # The pipeline step load_extra_data keeps Ion's fields on the social account.
        account = request.user.social_auth.filter(provider__in=["ion", "ion-oidc"]).first()
        ion = account.extra_data if account else None
    return render(request, "example/home.html", {"ion": ion})


@login_required
@relogin_with_ion
def ion_live(request: HttpRequest) -> HttpResponse:
    """The person's profile fetched live from Ion's API with their access token.

    The client refreshes the token when it expires; when Ion no longer accepts the refresh
    token, ``relogin_with_ion`` sends the person through the Ion login and back here.
    """
    try:
        profile = IonClient.for_user(request.user).get("profile")
    except IonLoginRequired:
        raise
    except IonAuthError as error:  # Ion down, too slow, or an unexpected answer
        return render(request, "example/ion_live.html", {"error": str(error)}, status=502)
    return render(request, "example/ion_live.html", {"profile": profile})
