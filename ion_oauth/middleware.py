"""Send a user whose Ion login ran out back through the Ion login, then where they were.

When Ion no longer accepts a user's refresh token, :class:`~ion_oauth.api.IonClient`
raises :class:`~ion_oauth.exceptions.IonLoginRequired`. Either add
:class:`IonLoginRequiredMiddleware` to ``MIDDLEWARE`` (every view), or decorate single
views with :func:`relogin_with_ion`. Both redirect to ``settings.LOGIN_URL?next=<path>``:
social-auth-app-django 8 starts a login only on POST, so the login page (which renders
``{% ion_login_button %}``, carrying ``next`` along) is where the user clicks through.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from ion_oauth.exceptions import IonLoginRequired


def redirect_to_ion_login(request: HttpRequest, error: IonLoginRequired) -> HttpResponseRedirect:
    """Redirect to ``LOGIN_URL?next=<this page>`` with the reason as a message.

    The message is skipped quietly when the messages framework is not installed.
    """
    messages.warning(request, str(error), fail_silently=True)
    return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)


class IonLoginRequiredMiddleware:
    """Turn ``IonLoginRequired`` raised by any view into a redirect to the login page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponseRedirect | None:
        """Handle only ``IonLoginRequired``; every other exception goes on as before."""
        if isinstance(exception, IonLoginRequired):
            return redirect_to_ion_login(request, exception)
        return None


def relogin_with_ion(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """Decorate a view so ``IonLoginRequired`` sends the user to log in with Ion again."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except IonLoginRequired as error:
            return redirect_to_ion_login(request, error)

    return wrapped
