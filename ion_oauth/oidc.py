"""``IonOpenIdConnect``: log in with Ion over OpenID Connect.

For applications registered on Ion with OpenID Connect enabled (RS256). The login is the
authorization-code flow of :class:`~ion_oauth.oauth.IonOauth2`, with its single-use,
expiring state and PKCE, plus a nonce; the user comes from the ID token in the token
response, verified against Ion's published keys, so no profile request is made. Ion's
discovery document and keys are kept per process: after the first login, a login costs
one request to Ion.

The verification is done here with PyJWT (which every supported social-auth-core depends
on) rather than by social-core's ``OpenIdConnectAuth``: between social-auth-core 4.5 and 7
that class moved its nonces from a database table to the session, changed its hooks and
error types, fetches over plain ``requests`` instead of :mod:`ion_oauth.transport`, and in
4.5 refetches the keys for every token with an unknown key id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from django.conf import settings
from django.contrib.auth import logout as auth_logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.views.decorators.http import require_POST
from social_core.utils import setting_name

from ion_oauth import transport
from ion_oauth.exceptions import IonAuthError, IonResponseError
from ion_oauth.oauth import IonOauth2
from ion_oauth.pipeline import sync_groups

logger = logging.getLogger("ion_oauth")

#: Where Ion serves its OpenID Connect discovery document, below the base URL.
DISCOVERY_PATH = "/oauth/.well-known/openid-configuration/"
#: Ion signs ID tokens with RS256; HS256, which Ion also offers, is never accepted.
ALGORITHMS = ["RS256"]
#: Seconds a fetched discovery document is used before it is fetched again.
DISCOVERY_LIFETIME = 24 * 3600
#: Seconds fetched keys are used; a key Ion withdraws stops being trusted after this.
KEYS_LIFETIME = 3600
#: An ID token signed with an unknown key refetches Ion's keys (Ion rotated them), but
#: at most once in this many seconds, so forged tokens cannot make every login a fetch.
KEY_REFETCH_INTERVAL = 60
#: Seconds of clock difference between this site and Ion that expiry checks allow.
LEEWAY = 60

_clock: Callable[[], float] = time.monotonic
_cache_lock = threading.Lock()
_discovery: dict[str, tuple[float, dict[str, str]]] = {}
_keys: dict[str, tuple[float, dict[str, jwt.PyJWK]]] = {}


def clear_cache() -> None:
    """Forget every discovery document and key fetched by this process."""
    with _cache_lock:
        _discovery.clear()
        _keys.clear()


class IonOpenIdConnect(IonOauth2):
    """Log in with Ion over OpenID Connect (backend name ``ion-oidc``).

    Settings: ``SOCIAL_AUTH_ION_OIDC_KEY`` / ``SECRET`` / ``SCOPE`` / ``GROUP_MAP`` /
    ``SYSADMIN_IS_SUPERUSER`` / ``POST_LOGOUT_REDIRECT_URI``, and ``BASE_URL`` /
    ``TIMEOUT`` / ``USE_PKCE`` / ``STATE_LIFETIME`` shared with ``SOCIAL_AUTH_ION_*``.
    """

    name = "ion-oidc"
    ID_KEY = "sub"
    # ``read`` lets the stored access token call Ion's API, as with the OAuth2 backend.
    DEFAULT_SCOPE = ["openid", "profile", "email", "groups", "read"]
    EXTRA_DATA = [
        ("id_token", "id_token"),
        ("refresh_token", "refresh_token"),
        ("expires_in", "expires"),
        ("scope", "scope"),
        ("preferred_username", "ion_username"),
        ("name", "display_name"),
        ("groups", "groups"),
        ("is_sysadmin", "is_sysadmin"),
    ]

    def own_setting_names(self, name: str) -> tuple[str, ...]:
        """``SOCIAL_AUTH_ION_OIDC_<NAME>``, then the OAuth2 backend's ``SOCIAL_AUTH_ION_<NAME>``."""
        return (setting_name(self.name, name), setting_name("ION", name))

    def get_scope(self) -> list[str]:
        # IonOauth2 drops ``openid`` (a non-OIDC application answers it with HTTP 500);
        # this backend is only for OIDC applications, where it is what makes the ID token.
        return ["openid", *super().get_scope()]

    # -- discovery and keys -------------------------------------------------------

    def discovery_url(self) -> str:
        """Ion's OpenID Connect discovery document."""
        return f"{self.base_url()}{DISCOVERY_PATH}"

    def oidc_config(self, stage: str = "unknown") -> dict[str, str]:
        """Ion's discovery document, fetched once per process and checked."""
        url = self.discovery_url()
        with _cache_lock:
            cached = _discovery.get(url)
            if cached and _clock() - cached[0] < DISCOVERY_LIFETIME:
                return cached[1]
            body = transport.request_json(
                "GET",
                url,
                what="OpenID configuration",
                timeout=self.timeout(),
                backend=self,
                stage=stage,
                headers={"Accept": "application/json"},
            )
            config = parse_discovery(body, backend=self, stage=stage)
            _discovery[url] = (_clock(), config)
            return config

    def authorization_url(self) -> str:
        return self.oidc_config("begin")["authorization_endpoint"]

    def access_token_url(self) -> str:
        return self.oidc_config("token_exchange")["token_endpoint"]

    def signing_key(self, kid: str) -> jwt.PyJWK:
        """Ion's public key with id ``kid``; an unknown id refetches the keys, rate-limited."""
        stage = "token_validation"
        uri = self.oidc_config(stage)["jwks_uri"]
        with _cache_lock:
            cached = _keys.get(uri)
            if cached:
                age = _clock() - cached[0]
                if kid in cached[1] and age < KEYS_LIFETIME:
                    return cached[1][kid]
                if kid not in cached[1] and age < KEY_REFETCH_INTERVAL:
                    raise _unknown_key(self, kid)
            body = transport.request_json(
                "GET",
                uri,
                what="signing keys",
                timeout=self.timeout(),
                backend=self,
                stage=stage,
                headers={"Accept": "application/json"},
            )
            keys = parse_jwks(body, backend=self, stage=stage)
            _keys[uri] = (_clock(), keys)
        if kid not in keys:
            raise _unknown_key(self, kid)
        return keys[kid]

    # -- the ID token -------------------------------------------------------------

    def user_data(self, access_token: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The claims of the token response's ID token, verified; no request to Ion."""
        response = kwargs.get("response") or {}
        id_token = response.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise IonResponseError(
                self,
                "Ion's answer carried no ID token: the application on Ion may not have "
                "OpenID Connect enabled. Please tell the site's administrator.",
                code="missing_claim",
                stage="token_validation",
            )
        claims = self.verify_id_token(id_token, access_token)
        return parse_claims(claims, backend=self)

    def verify_id_token(self, id_token: str, access_token: str) -> dict[str, Any]:
        """Check signature, issuer, audience, expiry, nonce and ``at_hash``; return the claims.

        The nonce is the one this login's state carried, and the state is single use,
        so an ID token cannot be replayed into another login.
        """
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError as error:
            raise _invalid(self, "could not be read", "malformed_response") from error
        kid = header.get("kid")
        if header.get("alg") not in ALGORITHMS or not isinstance(kid, str) or not kid:
            raise _invalid(self, "is not signed the way Ion signs", "invalid_signature")
        key = self.signing_key(kid)
        client_id = self.get_key_and_secret()[0]
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key.key,
                algorithms=ALGORITHMS,
                audience=client_id,
                issuer=self.oidc_config("token_validation")["issuer"],
                leeway=LEEWAY,
                options={"require": ["iss", "aud", "exp", "iat", "sub"]},
            )
        except jwt.PyJWTError as error:
            what, code = _describe_jwt_error(error)
            raise _invalid(self, what, code) from error
        if "azp" in claims and claims["azp"] != client_id:
            raise _invalid(self, "was issued to another application", "invalid_claim")
        expected = getattr(self, "_login", {}).get("nonce")
        nonce = claims.get("nonce")
        if not (
            isinstance(expected, str)
            and isinstance(nonce, str)
            and hmac.compare_digest(nonce.encode(), expected.encode())
        ):
            raise _invalid(self, "does not belong to this login", "nonce_mismatch")
        at_hash = claims.get("at_hash")
        if at_hash is not None and not (
            isinstance(at_hash, str) and hmac.compare_digest(at_hash, _at_hash(access_token))
        ):
            raise _invalid(self, "does not match its access token", "invalid_claim")
        return claims

    # -- state and nonce ----------------------------------------------------------

    def new_login(self, now: int) -> dict[str, Any]:
        """IonOauth2's login (time, PKCE verifier) plus the nonce the ID token must carry."""
        entry = super().new_login(now)
        entry["nonce"] = self.strategy.random_string(32)
        return entry

    def auth_params(self, state: str | None = None) -> dict[str, str]:
        params = super().auth_params(state)
        params["nonce"] = self._login["nonce"]
        return params

    # -- mapping claims onto the user ---------------------------------------------

    def get_user_id(self, details: dict[str, Any], response: dict[str, Any]) -> str:
        # Ion's ``sub`` is the same number as ``id`` in /api/profile.
        return str(response["sub"])

    def get_user_details(self, response: dict[str, Any]) -> dict[str, Any]:
        """Map the ID token's claims onto the fields social-auth fills in on the user."""
        # An address Ion says is unverified must not become the user's email, which
        # other code may trust to identify them.
        email = response.get("email") if response.get("email_verified") is not False else None
        return {
            "username": response["preferred_username"],
            "email": email or "",
            "fullname": response.get("name") or "",
            "first_name": response.get("given_name") or "",
            "last_name": response.get("family_name") or "",
        }

    # -- logging out at Ion -------------------------------------------------------

    def end_session_url(
        self, id_token: str | None = None, post_logout_redirect_uri: str | None = None
    ) -> str | None:
        """Where to send the browser so Ion ends its session too (RP-initiated logout).

        ``None`` when Ion's discovery document names no ``end_session_endpoint``. Ion
        redirects back only to a post-logout URI registered for the application.
        """
        endpoint = self.oidc_config("unknown").get("end_session_endpoint")
        if not endpoint:
            return None
        params = {"client_id": self.get_key_and_secret()[0] or ""}
        if id_token:
            params["id_token_hint"] = id_token
        if post_logout_redirect_uri:
            params["post_logout_redirect_uri"] = post_logout_redirect_uri
        return f"{endpoint}?{urlencode(params)}"

    def latest_id_token(self, user: Any) -> str | None:
        """The ID token of the user's most recent login with this backend, if any."""
        socials = self.strategy.storage.user.get_social_auth_for_user(user, self.name)
        social = socials.order_by("-pk").first()
        id_token = social.extra_data.get("id_token") if social else None
        return id_token if isinstance(id_token, str) else None


# -- pure checks on what Ion sends ---------------------------------------------------

_ENDPOINTS = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


def _is_http_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _response_error(
    backend: IonOpenIdConnect | None, what: str, field: str, stage: str
) -> IonResponseError:
    return IonResponseError(
        backend,
        f"Ion's {what} has a missing or invalid '{field}' field. "
        "Please try again later or tell the site's administrator.",
        code="missing_claim",
        stage=stage,
    )


def parse_discovery(
    data: Mapping[str, Any],
    *,
    backend: IonOpenIdConnect | None = None,
    stage: str = "unknown",
) -> dict[str, str]:
    """Check Ion's discovery document; return the endpoints this package uses."""
    config: dict[str, str] = {}
    for field in _ENDPOINTS:
        if not _is_http_url(data.get(field)):
            raise _response_error(backend, "OpenID configuration", field, stage)
        config[field] = data[field]
    end_session = data.get("end_session_endpoint")
    if end_session is not None:
        if not _is_http_url(end_session):
            raise _response_error(backend, "OpenID configuration", "end_session_endpoint", stage)
        config["end_session_endpoint"] = end_session
    return config


def parse_jwks(
    data: Mapping[str, Any],
    *,
    backend: IonOpenIdConnect | None = None,
    stage: str = "token_validation",
) -> dict[str, jwt.PyJWK]:
    """Ion's RS256 signing keys by key id; keys of other kinds, or unreadable ones, are skipped."""
    keys = data.get("keys")
    if not isinstance(keys, list):
        raise _response_error(backend, "signing keys", "keys", stage)
    found: dict[str, jwt.PyJWK] = {}
    for jwk in keys:
        if not (
            isinstance(jwk, dict)
            and jwk.get("kty") == "RSA"
            and jwk.get("use", "sig") == "sig"
            and jwk.get("alg", "RS256") in ALGORITHMS
            and isinstance(jwk.get("kid"), str)
        ):
            continue
        try:
            found[jwk["kid"]] = jwt.PyJWK(jwk, algorithm="RS256")
        except jwt.PyJWTError:
            logger.warning("Ignoring an unreadable key %r in Ion's signing keys", jwk["kid"])
    return found


_OPTIONAL_STR_CLAIMS = ("given_name", "family_name", "name", "email")


def parse_claims(
    claims: Mapping[str, Any],
    *,
    backend: IonOpenIdConnect | None = None,
    stage: str = "token_validation",
) -> dict[str, Any]:
    """Check the claims the site relies on have Ion's types; return them as a dict."""
    for field in ("sub", "preferred_username"):
        value = claims.get(field)
        if not isinstance(value, str) or not value.strip():
            raise _response_error(backend, "ID token", field, stage)
    for field in _OPTIONAL_STR_CLAIMS:
        if not isinstance(claims.get(field, ""), str):
            raise _response_error(backend, "ID token", field, stage)
    for field in ("email_verified", "is_sysadmin"):
        if not isinstance(claims.get(field, False), bool):
            raise _response_error(backend, "ID token", field, stage)
    groups = claims.get("groups", [])
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise _response_error(backend, "ID token", "groups", stage)
    return dict(claims)


#: PyJWT's errors, most specific first, as (type, what the ID token did, error code).
_JWT_ERRORS: tuple[tuple[type[jwt.PyJWTError], str, str], ...] = (
    (jwt.ExpiredSignatureError, "has expired", "response_expired"),
    (jwt.ImmatureSignatureError, "is not valid yet", "response_not_yet_valid"),
    (jwt.InvalidAudienceError, "was issued to another application", "invalid_claim"),
    (jwt.InvalidIssuerError, "was issued by another server than this site's Ion", "invalid_claim"),
    (jwt.MissingRequiredClaimError, "lacks a required claim", "missing_claim"),
    (jwt.InvalidSignatureError, "has an invalid signature", "invalid_signature"),
)


def _describe_jwt_error(error: jwt.PyJWTError) -> tuple[str, str]:
    for error_type, what, code in _JWT_ERRORS:
        if isinstance(error, error_type):
            return what, code
    return "could not be read", "malformed_response"


def _invalid(backend: IonOpenIdConnect, what: str, code: str) -> IonResponseError:
    logger.warning("Rejected an ID token from Ion: it %s (%s)", what, code)
    return IonResponseError(
        backend,
        f"Ion's answer could not be verified: its ID token {what}. "
        "You were not logged in; please log in again.",
        code=code,
        stage="token_validation",
    )


def _unknown_key(backend: IonOpenIdConnect, kid: str) -> IonResponseError:
    logger.warning("Ion's ID token names signing key %r, which Ion does not publish", kid[:64])
    return IonResponseError(
        backend,
        "Ion's answer could not be verified: its ID token is signed with a key Ion does "
        "not publish. You were not logged in; please try again in a minute.",
        code="invalid_signature",
        stage="token_validation",
    )


def _at_hash(access_token: str) -> str:
    """The ``at_hash`` of an access token for an RS256 ID token (OpenID Connect Core 3.1.3.6)."""
    digest = hashlib.sha256(access_token.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode("ascii").rstrip("=")


# -- pipeline ------------------------------------------------------------------------


def sync_oidc_groups(
    backend: Any,
    details: dict[str, Any],
    response: Any,
    user: Any = None,
    *args: Any,
    **kwargs: Any,
) -> None:
    """Put the user in the Django groups for their Ion groups, and out of the rest.

    ``SOCIAL_AUTH_ION_OIDC_GROUP_MAP`` maps Ion group names (the ``groups`` claim) to
    Django group names; groups it does not name are never touched. With
    ``SOCIAL_AUTH_ION_OIDC_SYSADMIN_IS_SUPERUSER = True``, ``is_superuser`` follows Ion's
    ``is_sysadmin``; otherwise it is left alone. Does nothing for other backends.
    """
    if user is None or backend.name != IonOpenIdConnect.name:
        return
    group_map: Mapping[str, str] = backend.setting("GROUP_MAP", {}) or {}
    if group_map:
        ion_groups = set(response.get("groups") or ())
        wanted = {django for ion, django in group_map.items() if ion in ion_groups}
        sync_groups(user, wanted, managed=set(group_map.values()), class_group=None)
    if backend.setting("SYSADMIN_IS_SUPERUSER", False):
        is_sysadmin = response.get("is_sysadmin") is True
        if user.is_superuser != is_sysadmin:
            user.is_superuser = is_sysadmin
            user.save(update_fields=["is_superuser"])


def associate_oauth2_user(
    backend: Any, uid: str, user: Any = None, *args: Any, **kwargs: Any
) -> dict[str, Any] | None:
    """Log a person who used to log in with ``IonOauth2`` into that same user.

    Ion's ``sub`` is the ``id`` the OAuth2 backend stored, so a site switching to OpenID
    Connect keeps its users instead of creating a second one per person. Put it after
    ``social_user`` and before ``get_username``.
    """
    if user is not None or backend.name != IonOpenIdConnect.name:
        return None
    social = backend.strategy.storage.user.get_social_auth(IonOauth2.name, uid)
    if social is None:
        return None
    return {"user": social.user}


# -- logout view ---------------------------------------------------------------------


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """Log out here, then at Ion, and come back to ``LOGOUT_REDIRECT_URL``.

    POST only, so another site cannot log a user out with a link. A user who did not log
    in with ``ion-oidc``, or an Ion that cannot be reached, still gets logged out here.
    """
    # Imported here: social_django.utils reads settings when imported, and this module
    # is imported by social-auth while it loads backends.
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
