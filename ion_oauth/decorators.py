"""Views for some Ion users only: ``@ion_role_required("teacher")``,
``@ion_class_required(2027)`` and :class:`IonRoleRequiredMixin`.

A person who is not logged in goes to ``LOGIN_URL`` and comes back after the Ion login; a
logged-in person without the role or class gets a 403 page (``ion_oauth/forbidden.html``)
that says what the page needs. Roles and the graduating class come from the person's last
``IonOauth2`` login (``extra_data``); an OpenID Connect ID token carries neither.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse

from ion_oauth.conf import ROLES
from ion_oauth.oauth import IonOauth2

__all__ = [
    "IonRoleRequiredMixin",
    "ion_class_required",
    "ion_class_year",
    "ion_role_required",
    "ion_roles",
]

View = TypeVar("View", bound=Callable[..., HttpResponse])

#: How the 403 page names each role.
ROLE_NAMES = {"student": "students", "teacher": "teachers", "eighth_admin": "eighth period admins"}


def _ion_data(user: Any) -> Mapping[str, Any]:
    """``extra_data`` of the user's latest OAuth2 login with Ion, or ``{}``."""
    if not getattr(user, "is_authenticated", False):
        return {}
    social = user.social_auth.filter(provider=IonOauth2.name).order_by("-modified").first()
    return social.extra_data if social is not None and social.extra_data else {}


def ion_roles(user: Any) -> frozenset[str]:
    """The Ion roles (``student``, ``teacher``, ``eighth_admin``) of ``user``."""
    data = _ion_data(user)
    return frozenset(role for role in ROLES if data.get(f"is_{role}") is True)


def ion_class_year(user: Any) -> int | None:
    """The graduation year Ion gave ``user``, or ``None`` (teachers, non-Ion users)."""
    year = _ion_data(user).get("graduation_year")
    return year if isinstance(year, int) and not isinstance(year, bool) else None


def _or(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _check_roles(roles: Iterable[str]) -> tuple[str, ...]:
    roles = tuple(roles)
    unknown = [role for role in roles if role not in ROLES]
    if not roles or unknown:
        raise ValueError(
            f"Unknown Ion role(s) {unknown or '(none given)'}; Ion's roles are {', '.join(ROLES)}."
        )
    return roles


def _check_years(years: Iterable[int]) -> tuple[int, ...]:
    years = tuple(years)
    if not years or not all(isinstance(y, int) and not isinstance(y, bool) for y in years):
        raise ValueError(f"Graduation years must be integers such as 2027, not {years!r}.")
    return years


def _refuse(request: HttpRequest, needed: str) -> HttpResponse:
    # Imported here: views imports the backends, which a decorated view module should not
    # pay for at import time.
    from ion_oauth.views import render_page

    try:
        logout_url: str | None = reverse("ion_oauth:logout")
    except NoReverseMatch:
        logout_url = None
    context = {"needed": needed, "logout_url": logout_url}
    return render_page(request, "ion_oauth/forbidden.html", context, status=403)


def _allowed(
    request: HttpRequest, roles: tuple[str, ...], years: tuple[int, ...]
) -> HttpResponse | None:
    """``None`` when the person may see the page, else the response that stops them."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if roles and not ion_roles(request.user) & set(roles):
        return _refuse(
            request, f"This page is for Ion {_or([ROLE_NAMES[role] for role in roles])}."
        )
    if years and ion_class_year(request.user) not in years:
        return _refuse(
            request, f"This page is for the class of {_or([str(year) for year in years])}."
        )
    return None


def ion_role_required(*roles: str) -> Callable[[View], View]:
    """Let in people with at least one of ``roles`` on Ion: ``student``, ``teacher``,
    ``eighth_admin``. An unknown role is a ``ValueError`` when the module loads."""
    wanted = _check_roles(roles)

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            return _allowed(request, wanted, ()) or view(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def ion_class_required(*years: int) -> Callable[[View], View]:
    """Let in students graduating in one of ``years`` (``@ion_class_required(2027)``)."""
    wanted = _check_years(years)

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            return _allowed(request, (), wanted) or view(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


class IonRoleRequiredMixin:
    """For class-based views: set ``ion_roles`` (any of them lets a person in) and/or
    ``ion_classes`` (graduation years). List it before the view class."""

    ion_roles: Iterable[str] = ()
    ion_classes: Iterable[int] = ()

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        roles = _check_roles(self.ion_roles) if self.ion_roles else ()
        years = _check_years(self.ion_classes) if self.ion_classes else ()
        if not roles and not years:
            raise ValueError(f"{type(self).__name__} sets neither ion_roles nor ion_classes.")
        refused = _allowed(request, roles, years)
        if refused is not None:
            return refused
        response: HttpResponse = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        return response
