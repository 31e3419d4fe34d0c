"""The pages a site gets from ``path("", include("ion_oauth.urls"))``: log in, the login-error
page and log out. Each renders a template under ``ion_oauth/`` that extends
``SOCIAL_AUTH_ION_BASE_TEMPLATE``, so a site can restyle or replace any of them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.module_loading import import_string

from ion_oauth.conf import ion_settings
from ion_oauth.oauth import IonOauth2
from ion_oauth.oidc import logout

__all__ = ["login", "login_error", "logout", "render_page"]

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
