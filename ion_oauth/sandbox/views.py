"""The sandbox's pages and endpoints: django-oauth-toolkit's views, shaped like Ion's."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from oauth2_provider import views as dot
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from ion_oauth.sandbox import stats
from ion_oauth.sandbox.control import control_endpoint
from ion_oauth.sandbox.models import Person

#: The discovery keys Ion publishes, in the order recorded from it; django-oauth-toolkit
#: releases after Ion's add others.
DISCOVERY_KEYS = (
    "authorization_endpoint",
    "claims_supported",
    "code_challenge_methods_supported",
    "end_session_endpoint",
    "id_token_signing_alg_values_supported",
    "issuer",
    "jwks_uri",
    "response_types_supported",
    "scopes_supported",
    "subject_types_supported",
    "token_endpoint",
    "token_endpoint_auth_methods_supported",
    "userinfo_endpoint",
)


def json_response(data: Any, status: int = 200, *, sort_keys: bool = False) -> HttpResponse:
    """JSON as Ion's API sends it: compact, UTF-8, keys in the given (or sorted) order."""
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys)
    return HttpResponse(body, status=status, content_type="application/json")


@require_http_methods(["GET", "POST"])
def pick_person(request: HttpRequest) -> HttpResponse:
    """The sandbox's login page: no passwords, pick a demo person and go back to ``next``."""
    next_url = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    if request.method == "POST":
        choice = request.POST.get("person", "")
        person = Person.objects.filter(pk=int(choice)).first() if choice.isdigit() else None
        if person is not None:
            login(request, person.user, backend="django.contrib.auth.backends.ModelBackend")
            return HttpResponseRedirect(next_url)
    people = Person.objects.select_related("user").order_by("pk")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "ion_sandbox/login.html", {"people": people, "next": next_url}, status=status
    )


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """What the sandbox is, who is logged in, and where its endpoints are."""
    return render(request, "ion_sandbox/home.html", {"base": request.build_absolute_uri("/")[:-1]})


class AuthorizeView(dot.AuthorizationView):  # type: ignore[misc]  # DOT ships no type hints
    """``/oauth/authorize/``: the person picker if nobody is logged in, then consent."""

    template_name = "ion_sandbox/authorize.html"

    def handle_no_permission(self) -> HttpResponse:
        # A request that will be refused is refused before anyone picks a person: an
        # unknown client or unregistered redirect URI gets the 400 page, other errors
        # go back to the client.
        try:
            self.validate_authorization_request(self.request)
        except OAuthToolkitError as error:
            response: HttpResponse = self.error_response(error, application=None)
            return response
        return super().handle_no_permission()  # type: ignore[no-any-return]

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        if "error" in context:
            # A request too broken to redirect back to the client (see error_response).
            return render(self.request, "ion_sandbox/error.html", context, status=400)
        return super().render_to_response(context, **kwargs)  # type: ignore[no-any-return]


class TokenView(dot.TokenView):  # type: ignore[misc]
    """``/oauth/token/``, counted by grant type for ``/sandbox/stats``."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        stats.count_token_request(request.POST.get("grant_type") or "missing")
        return super().post(request, *args, **kwargs)  # type: ignore[no-any-return]


class DiscoveryView(dot.ConnectDiscoveryInfoView):  # type: ignore[misc]
    """``/oauth/.well-known/openid-configuration/`` with exactly Ion's keys."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        data = json.loads(super().get(request, *args, **kwargs).content)
        response = json_response({key: data[key] for key in DISCOVERY_KEYS})
        response["Access-Control-Allow-Origin"] = "*"
        return response


class JwksView(dot.JwksInfoView):  # type: ignore[misc]
    """``/oauth/.well-known/jwks.json``, keys in the order recorded from Ion."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        upstream = super().get(request, *args, **kwargs)
        response = json_response(json.loads(upstream.content), sort_keys=True)
        for header in ("Access-Control-Allow-Origin", "Cache-Control"):
            response[header] = upstream[header]
        return response


class UserInfoView(dot.UserInfoView):  # type: ignore[misc]
    """``/oauth/userinfo/``, claims in the order recorded from Ion."""

    def _create_userinfo_response(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse = super()._create_userinfo_response(request)
        if response.status_code == 200:
            response.content = json.dumps(json.loads(response.content), sort_keys=True).encode()
        return response


@control_endpoint
@require_POST
def expire_tokens(request: HttpRequest) -> HttpResponse:
    """``POST /sandbox/tokens/expire``: every access token expires now."""
    past = timezone.now() - timedelta(seconds=1)
    return json_response({"expired": get_access_token_model().objects.update(expires=past)})


@control_endpoint
@require_POST
def revoke_tokens(request: HttpRequest) -> HttpResponse:
    """``POST /sandbox/tokens/revoke``: every access and refresh token stops working."""
    access_tokens = get_access_token_model().objects.all()
    revoked = access_tokens.count()
    access_tokens.delete()
    live = get_refresh_token_model().objects.filter(revoked__isnull=True)
    revoked += live.update(revoked=timezone.now())
    return json_response({"revoked": revoked})


@control_endpoint
@require_GET
def show_stats(request: HttpRequest) -> HttpResponse:
    """``GET /sandbox/stats``: counters since the sandbox started."""
    return json_response(stats.snapshot())


@control_endpoint
@require_POST
def reset_stats(request: HttpRequest) -> HttpResponse:
    """``POST /sandbox/stats/reset``: counters back to zero."""
    stats.reset()
    return json_response(stats.snapshot())
