"""URLs of the sandbox, laid out like Ion's. Every endpoint works with or without its
trailing slash, without a redirect (a redirect would turn a POST into a GET)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import URLPattern, include, path
from oauth2_provider import views as dot

from ion_oauth.sandbox import views


def slash_optional(
    route: str, view: Callable[..., Any], name: str | None = None, *, slash: bool = True
) -> list[URLPattern]:
    """``route/`` and ``route``; the name goes to Ion's canonical form (``slash``), so
    reverse() and the discovery document give the URLs Ion gives."""
    canonical, other = (f"{route}/", route) if slash else (route, f"{route}/")
    return [path(canonical, view, name=name), path(other, view)]


oauth_patterns = [
    *slash_optional("authorize", views.AuthorizeView.as_view(), "authorize"),
    *slash_optional("token", views.TokenView.as_view(), "token"),
    *slash_optional("revoke_token", dot.RevokeTokenView.as_view(), "revoke-token"),
    *slash_optional(
        ".well-known/openid-configuration",
        views.DiscoveryView.as_view(),
        "oidc-connect-discovery-info",
        # The issuer is this URL minus "/.well-known/openid-configuration".
        slash=False,
    ),
    *slash_optional(".well-known/jwks.json", views.JwksView.as_view(), "jwks-info", slash=False),
    *slash_optional("userinfo", views.UserInfoView.as_view(), "user-info"),
    *slash_optional("logout", dot.RPInitiatedLogoutView.as_view(), "rp-initiated-logout"),
]

urlpatterns = [
    path("", views.home, name="home"),
    *slash_optional("login", views.pick_person, "login"),
    # The namespace django-oauth-toolkit's views reverse their sibling endpoints in.
    path("oauth/", include((oauth_patterns, "oauth2_provider"))),
    *slash_optional("api/profile", views.profile, "profile"),
    *slash_optional("api/profile/<int:person_id>/picture", views.picture, "picture"),
    *slash_optional("sandbox/tokens/expire", views.expire_tokens),
    *slash_optional("sandbox/tokens/revoke", views.revoke_tokens),
    *slash_optional("sandbox/stats", views.show_stats),
    *slash_optional("sandbox/stats/reset", views.reset_stats),
    *slash_optional("sandbox/clock/offset", views.clock_offset),
]
