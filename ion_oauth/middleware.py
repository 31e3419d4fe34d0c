"""What a view's user sees when a call to Ion fails: a new login, or a 503 page.

When Ion no longer accepts a user's refresh token, :class:`~ion_oauth.api.IonClient`
raises :class:`~ion_oauth.exceptions.IonLoginRequired`. Either add
:class:`IonLoginRequiredMiddleware` to ``MIDDLEWARE`` (every view), or decorate single
views with :func:`relogin_with_ion`. Both redirect to ``settings.LOGIN_URL?next=<path>``:
social-auth-app-django 8 starts a login only on POST, so the login page (which renders
``{% ion_login_button %}``, carrying ``next`` along) is where the user clicks through.

Both also answer :class:`~ion_oauth.exceptions.IonUnavailable` (Ion down, too slow,
answering 5xx or 429) with a 503 page saying so (``ion_oauth/unavailable.html``, with
Ion's ``Retry-After`` passed on): nothing is wrong with the site or the user. Other
errors, such as an ``IonRejected`` for a request Ion refuses, are the view's to catch;
uncaught they are a 500 like any other bug, and the error report shows no secret.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from ion_oauth.exceptions import IonLoginRequired, IonUnavailable


def redirect_to_ion_login(request: HttpRequest, error: IonLoginRequired) -> HttpResponseRedirect:
    """Redirect to ``LOGIN_URL?next=<this page>`` with the reason as a message.

    The message is skipped quietly when the messages framework is not installed.
    """
    messages.warning(request, str(error), fail_silently=True)
    return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)


def ion_unavailable(request: HttpRequest, error: IonUnavailable) -> HttpResponse:
    """A 503 page with the error's message, and Ion's ``Retry-After`` when it sent one."""
    response = render(request, "ion_oauth/unavailable.html", {"message": str(error)}, status=503)
    if error.retry_after and error.retry_after.isdigit():
        response["Retry-After"] = error.retry_after
    return response


def response_for(request: HttpRequest, error: Exception) -> HttpResponse | None:
    """The response for an error from a call to Ion, or None to let it propagate."""
    if isinstance(error, IonLoginRequired):
        return redirect_to_ion_login(request, error)
    if isinstance(error, IonUnavailable):
        return ion_unavailable(request, error)
    return None


class IonLoginRequiredMiddleware:
    """Turn ``IonLoginRequired`` raised by any view into a redirect to the login page, and
    ``IonUnavailable`` into a 503 page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Handle ``IonLoginRequired`` and ``IonUnavailable``; every other exception goes on."""
        return response_for(request, exception)


def relogin_with_ion(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """Decorate a view so ``IonLoginRequired`` sends the user to log in with Ion again, and
    ``IonUnavailable`` is a 503 page, as :class:`IonLoginRequiredMiddleware` does."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except IonLoginRequired as error:
            return redirect_to_ion_login(request, error)
        except IonUnavailable as error:
            return ion_unavailable(request, error)

    return wrapped
