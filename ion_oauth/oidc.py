"""``IonOpenIdConnect``: log in with Ion over OpenID Connect.

For applications registered on Ion with OpenID Connect enabled (RS256). The login is the
authorization-code flow of :class:`~ion_oauth.oauth.IonOauth2`, with its single-use,
expiring state and PKCE, plus a nonce; the user comes from the ID token in the token
response, verified against Ion's published keys, so no profile request is made. Ion's
discovery document and keys are kept per process (:mod:`ion_oauth.discovery`): after the
first login, a login costs one request to Ion.

The verification is done here with PyJWT (which every supported social-auth-core depends
on) rather than by social-core's ``OpenIdConnectAuth``: between social-auth-core 4.5 and 7
that class moved its nonces from a database table to the session, changed its hooks and
error types, fetches over plain ``requests`` instead of :mod:`ion_oauth.transport`, and in
4.5 refetches the keys for every token with an unknown key id.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlencode

import jwt
from django.views.decorators.debug import sensitive_variables
from social_core.utils import setting_name

from ion_oauth import discovery
from ion_oauth.claims import (
    ALGORITHMS,
    at_hash,
    describe_jwt_error,
    invalid_id_token,
    parse_claims,
)
from ion_oauth.exceptions import IonResponseError
from ion_oauth.oauth import IonOauth2

#: Where Ion serves its OpenID Connect discovery document, below the base URL.
DISCOVERY_PATH = "/oauth/.well-known/openid-configuration/"
#: Seconds of clock difference between this site and Ion that expiry checks allow.
LEEWAY = 60


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
        return discovery.oidc_config(self, self.discovery_url(), stage)

    def authorization_url(self) -> str:
        return self.oidc_config("begin")["authorization_endpoint"]

    def access_token_url(self) -> str:
        return self.oidc_config("token_exchange")["token_endpoint"]

    def signing_key(self, kid: str) -> jwt.PyJWK:
        """Ion's public key with id ``kid``; an unknown id refetches the keys, rate-limited."""
        stage = "token_validation"
        return discovery.signing_key(self, self.oidc_config(stage)["jwks_uri"], kid, stage)

    # -- the ID token -------------------------------------------------------------

    @sensitive_variables()
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

    @sensitive_variables()
    def verify_id_token(self, id_token: str, access_token: str) -> dict[str, Any]:
        """Check signature, issuer, audience, expiry, nonce and ``at_hash``; return the claims.

        The nonce is the one this login's state carried, and the state is single use,
        so an ID token cannot be replayed into another login.
        """
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError as error:
            raise invalid_id_token(self, "could not be read", "malformed_response") from error
        kid = header.get("kid")
        if header.get("alg") not in ALGORITHMS or not isinstance(kid, str) or not kid:
            raise invalid_id_token(self, "is not signed the way Ion signs", "invalid_signature")
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
            what, code = describe_jwt_error(error)
            raise invalid_id_token(self, what, code) from error
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        # Several audiences and no azp: nothing says this site is the party it was meant for.
        if claims.get("azp", client_id if len(audiences) == 1 else None) != client_id:
            raise invalid_id_token(self, "was issued to another application", "invalid_claim")
        expected = getattr(self, "_login", {}).get("nonce")
        nonce = claims.get("nonce")
        if not (
            isinstance(expected, str)
            and isinstance(nonce, str)
            and hmac.compare_digest(nonce.encode(), expected.encode())
        ):
            raise invalid_id_token(self, "does not belong to this login", "nonce_mismatch")
        token_hash = claims.get("at_hash")
        if token_hash is not None and not (
            isinstance(token_hash, str) and hmac.compare_digest(token_hash, at_hash(access_token))
        ):
            raise invalid_id_token(self, "does not match its access token", "invalid_claim")
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
        # An address Ion does not say is verified must not become the user's email, which
        # other code may trust to identify them.
        email = response.get("email") if response.get("email_verified") is True else None
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
