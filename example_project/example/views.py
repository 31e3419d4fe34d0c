"""The example's pages: home (log in, or who you are on Ion, and today's bell schedule), a
live Ion API call, and eighth period (blocks, signups, sign up). The login-error page and
logout are ion-oauth's (``ion_oauth.urls``)."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from ion_oauth.api import IonClient
from ion_oauth.exceptions import IonApiError, IonAuthError, IonLoginRequired
from ion_oauth.middleware import relogin_with_ion
from ion_oauth.resources import Day

#: How many blocks the eighth-period page shows: the next day's A and B.
BLOCKS_SHOWN = 2


def home(request: HttpRequest) -> HttpResponse:
    """The login button, or the logged-in person's name and what Ion told us about them."""
    ion = None
    schedule: Day | None = None
    if request.user.is_authenticated:
        # The pipeline step load_extra_data keeps Ion's fields on the social account.
        account = request.user.social_auth.filter(provider__in=["ion", "ion-oidc"]).first()
        ion = account.extra_data if account else None
        schedule = todays_schedule(request)
    context = {"ion": ion, "schedule": schedule, "today": datetime.date.today()}
    return render(request, "example/home.html", context)


def todays_schedule(request: HttpRequest) -> Day | None:
    """Today's bell schedule from Ion, or None when Ion cannot say (the page still works).

    "Today" is the site's (``TIME_ZONE``), which is what a person at TJ means.
    """
    try:
        return IonClient.for_user(request.user).schedule(datetime.date.today())
    except IonAuthError:  # Ion down, or this login no longer accepted: no schedule today
        return None


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


@login_required
@relogin_with_ion
@require_http_methods(["GET", "POST"])
def eighth(request: HttpRequest) -> HttpResponse:
    """Eighth period: the next blocks with their activities (room, capacity), the person's
    signups, and a sign-up button per activity; Ion's refusal is shown as a message."""
    client = IonClient.for_user(request.user)
    if request.method == "POST":
        choice = request.POST.get("scheduled_activity", "")
        if not choice.isdigit():
            messages.error(request, "Choose an activity to sign up for.")
            return redirect("eighth")
        try:
            activity = client.sign_up(int(choice))
        except IonApiError as refusal:  # full, restricted, cancelled, sticky... in Ion's words
            messages.error(request, str(refusal))
        else:
            messages.success(request, f"You are signed up for {activity.name}.")
        return redirect("eighth")
    today = datetime.date.today()
    try:
        upcoming = []
        for block in client.blocks(start=today):
            upcoming.append(client.block(block.id))
            if len(upcoming) == BLOCKS_SHOWN:
                break
        signups = client.signups(start=today)
    except IonLoginRequired:
        raise
    except IonAuthError as error:
        return render(request, "example/eighth.html", {"error": str(error)}, status=502)
    chosen = {signup.scheduled_activity_id for signup in signups}
    return render(
        request,
        "example/eighth.html",
        {"blocks": upcoming, "signups": signups, "chosen": chosen},
    )
