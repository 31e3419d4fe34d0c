"""URLs of the sandbox, laid out like Ion's. Every endpoint works with or without its
trailing slash, without a redirect (a redirect would turn a POST into a GET)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import URLPattern, include, path
from oauth2_provider import views as dot

from ion_oauth.sandbox import api_views, views


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
    *slash_optional("api/profile", api_views.own_profile, "profile"),
    *slash_optional("api", api_views.api_root, "api-root"),
    *slash_optional("api/profile/<str:ref>", api_views.profile_detail),
    *slash_optional("api/profile/<str:ref>/picture", api_views.picture, "picture"),
    *slash_optional("api/profile/<str:ref>/picture/<str:year>", api_views.picture),
    *slash_optional("api/search/<str:query>", api_views.search),
    *slash_optional("api/schedule", api_views.schedule),
    *slash_optional("api/schedule/<str:date>", api_views.schedule_day),
    *slash_optional("api/blocks", api_views.blocks),
    *slash_optional("api/blocks/<int:block_id>", api_views.block_detail),
    *slash_optional("api/activities", api_views.activities),
    *slash_optional("api/activities/<int:activity_id>", api_views.activity_view),
    *slash_optional("api/signups/user", api_views.user_signups),
    *slash_optional("api/signups/user/favorites", api_views.favorites),
    *slash_optional("api/signups/user/<int:user_id>", api_views.other_user_signups),
    *slash_optional("api/signups/scheduled_activity/<int:scheduled_id>", api_views.roster),
    *slash_optional("api/announcements", api_views.announcements),
    *slash_optional("api/announcements/<int:announcement_id>", api_views.announcement),
    *slash_optional("api/bus", api_views.bus),
    *slash_optional("api/bus/<int:route_id>", api_views.bus_route),
    *slash_optional("api/emerg", api_views.emergency),
    *slash_optional("sandbox/tokens/expire", views.expire_tokens),
    *slash_optional("sandbox/tokens/revoke", views.revoke_tokens),
    *slash_optional("sandbox/stats", views.show_stats),
    *slash_optional("sandbox/stats/reset", views.reset_stats),
    *slash_optional("sandbox/emergency", api_views.set_emergency),
    *slash_optional("sandbox/api/reset", api_views.reset_api_data),
]

handler404 = "ion_oauth.sandbox.api_views.page_not_found"
