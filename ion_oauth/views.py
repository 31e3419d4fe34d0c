"""The pages a site gets from ``path("", include("ion_oauth.urls"))``: log in, the login-error
page and log out (at Ion too, after an OpenID Connect login). The pages render templates under
``ion_oauth/`` that extend ``SOCIAL_AUTH_ION_BASE_TEMPLATE``, so a site can restyle or replace
any of them."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import logout as auth_logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.module_loading import import_string
from django.views.decorators.http import require_POST

from ion_oauth.conf import ion_settings
from ion_oauth.exceptions import IonAuthError
from ion_oauth.oauth import IonOauth2
from ion_oauth.oidc import IonOpenIdConnect

__all__ = ["login", "login_error", "logout", "render_page"]

logger = logging.getLogger("ion_oauth")

LABELS = {"ion": "Log in with Ion", "ion-oidc": "Log in with Ion (OpenID Connect)"}


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    """Render one of the package's pages with the base template it extends."""
    values = {"ion_base_template": ion_settings.BASE_TEMPLATE, **(context or {})}
    return render(request, template, values, status=status)


def ion_backends() -> list[dict[str, str]]:
    """The Ion backends in ``AUTHENTICATION_BACKENDS``, in order: name and button label."""
    names = []
    for path in getattr(settings, "AUTHENTICATION_BACKENDS", []):
        try:
            backend = import_string(path)
        except ImportError:
            continue  # check ion_oauth.E016 names it
        if isinstance(backend, type) and issubclass(backend, IonOauth2):
            names.append(str(backend.name))
    if len(names) == 1:
        return [{"name": names[0], "label": "Log in with Ion"}]
    return [
        {"name": name, "label": LABELS.get(name, f"Log in with Ion ({name})")} for name in names
    ]


def safe_next(request: HttpRequest) -> str:
    """``?next=`` when it points into this site, else ``""``."""
    target = request.GET.get("next", "")
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else ""


def login(request: HttpRequest) -> HttpResponse:
    """The ``LOGIN_URL`` page: a "Log in with Ion" button that returns to ``?next=``.

    A person already logged in sees who they are, a way on to ``next`` and a logout button.
    """
    context = {"next": safe_next(request), "backends": ion_backends()}
    return render_page(request, "ion_oauth/login.html", context)


def login_error(request: HttpRequest) -> HttpResponse:
    """The ``LOGIN_ERROR_URL`` page: why the login failed (Django messages) and "Try again"."""
    backends = [
        {**backend, "label": "Try again" if index == 0 else f"Try again: {backend['label']}"}
        for index, backend in enumerate(ion_backends())
    ]
    return render_page(request, "ion_oauth/login_error.html", {"backends": backends})


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """Log out here, then at Ion, and come back to ``LOGOUT_REDIRECT_URL``.

    POST only, so another site cannot log a user out with a link. A user who did not log
    in with ``ion-oidc``, or an Ion that cannot be reached, still gets logged out here.
    """
    # Imported here: social_django.utils reads settings when it is imported.
    from social_django.utils import load_strategy

    local_url = resolve_url(getattr(settings, "LOGOUT_REDIRECT_URL", None) or "/")
    target = local_url
    if request.user.is_authenticated:
        backend = IonOpenIdConnect(load_strategy(request))  # type: ignore[no-untyped-call]
        id_token = backend.latest_id_token(request.user)
        if id_token:
            # Unset: come back here. "": send none, for an application on Ion without a
            # registered post-logout URI (Ion refuses an unregistered one with a 400 page).
            after = backend.setting("POST_LOGOUT_REDIRECT_URI")
            if after is None:
                after = request.build_absolute_uri(local_url)
            try:
                target = backend.end_session_url(id_token, after or None) or local_url
            except IonAuthError:
                logger.warning("Could not reach Ion to end its session; logged out here only")
    auth_logout(request)
    return HttpResponseRedirect(target)
