"""``IonOauth2``: log in with Ion over OAuth2 (the import path Ion's own guide names)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import time
from typing import Any

from django.views.decorators.debug import sensitive_variables
from social_core.backends.oauth import BaseOAuth2
from social_core.utils import setting_name

from ion_oauth import transport
from ion_oauth.conf import DEFAULTS
from ion_oauth.exceptions import (
    IonAuthError,
    IonCallbackError,
    IonLoginCancelled,
    IonLoginRequired,
    IonRejected,
    IonStateError,
)
from ion_oauth.profile import parse_profile, parse_token

logger = logging.getLogger("ion_oauth")

_OAUTH_ERROR = re.compile(r"^[a-z_]{1,64}$")
#: Logins a browser may have open at once (one per tab); older ones are dropped.
MAX_PENDING_LOGINS = 5


class IonOauth2(BaseOAuth2):  # type: ignore[type-arg]
    """Log in with Ion (authorization code flow, PKCE S256 by default).

    Settings: ``SOCIAL_AUTH_ION_KEY`` / ``SECRET`` / ``BASE_URL`` / ``SCOPE`` /
    ``USE_PKCE`` / ``TIMEOUT`` / ``STATE_LIFETIME``. One login makes exactly two requests
    to Ion: the token exchange and ``/api/profile`` with the token in a header.
    """

    name = "ion"
    title = "Ion"
    ID_KEY = "id"
    DEFAULT_SCOPE = ["read"]
    SCOPE_SEPARATOR = " "
    # Django OAuth Toolkit 3.x compares redirect URIs exactly, query string included,
    # so the redirect URI carries nothing; ``state`` is the CSRF protection.
    REDIRECT_STATE = False
    STATE_PARAMETER = True
    EXTRA_DATA = [
        ("refresh_token", "refresh_token"),
        ("expires_in", "expires"),
        ("scope", "scope"),
        ("ion_username", "ion_username"),
        ("display_name", "display_name"),
        ("user_type", "user_type"),
        ("is_student", "is_student"),
        ("is_teacher", "is_teacher"),
        ("is_eighth_admin", "is_eighth_admin"),
        ("graduation_year", "graduation_year"),
        ("grade", "grade"),
        ("picture", "picture"),
    ]

    #: Settings ion-oauth adds; read by their exact ``SOCIAL_AUTH_<BACKEND>_<NAME>`` only.
    OWN_SETTINGS = frozenset({"BASE_URL", "TIMEOUT", "USE_PKCE", "STATE_LIFETIME"})

    def setting(self, name: str, default: Any = None) -> Any:
        """social-auth's setting lookup, except exact names for :data:`OWN_SETTINGS`.

        social-auth would fall back to ``SOCIAL_AUTH_<NAME>`` and then a bare ``<NAME>``;
        a site's own ``BASE_URL`` or ``TIMEOUT`` says nothing about where Ion is.
        """
        if name not in self.OWN_SETTINGS:
            return super().setting(name, default)
        for full_name in self.own_setting_names(name):
            try:
                return self.strategy.get_setting(full_name)
            except (AttributeError, KeyError):
                continue
        return default

    def own_setting_names(self, name: str) -> tuple[str, ...]:
        """The names an own setting is looked up under, first found wins."""
        return (setting_name(self.name, name),)

    # -- where Ion is -------------------------------------------------------------

    def base_url(self) -> str:
        """``SOCIAL_AUTH_ION_BASE_URL`` without a trailing slash."""
        return str(self.setting("BASE_URL", DEFAULTS["BASE_URL"])).rstrip("/")

    def authorization_url(self) -> str:
        return f"{self.base_url()}/oauth/authorize/"

    def access_token_url(self) -> str:
        return f"{self.base_url()}/oauth/token/"

    def revoke_token_url(self, token: str, uid: str) -> str:
        return f"{self.base_url()}/oauth/revoke_token/"

    def profile_url(self) -> str:
        """Ion's ``/api/profile`` for the token's owner."""
        return f"{self.base_url()}/api/profile"

    def timeout(self) -> float:
        """Seconds to wait for Ion (``SOCIAL_AUTH_ION_TIMEOUT``)."""
        return float(self.setting("TIMEOUT", DEFAULTS["TIMEOUT"]))

    def get_scope(self) -> list[str]:
        # A non-OIDC Ion application answers a request for ``openid`` with HTTP 500 at
        # the token endpoint, so the plain OAuth2 backend never asks for it.
        return [s for s in dict.fromkeys(super().get_scope()) if s != "openid"]

    # -- state and PKCE -----------------------------------------------------------
    # Kept here rather than in social-core so that every supported social-core release
    # behaves the same: a state is single-use, expires, and carries its PKCE verifier.

    def _pending_key(self) -> str:
        return f"{self.name}_ion_oauth_pending"

    def _state_lifetime(self) -> int:
        return int(self.setting("STATE_LIFETIME", DEFAULTS["STATE_LIFETIME"]))

    def _use_pkce(self) -> bool:
        return bool(self.setting("USE_PKCE", DEFAULTS["USE_PKCE"]))

    def _pending(self) -> dict[str, dict[str, Any]]:
        stored = self.strategy.session_get(self._pending_key())
        if not isinstance(stored, dict):
            return {}
        return {
            k: v
            for k, v in stored.items()
            if isinstance(v, dict) and isinstance(v.get("issued"), int)
        }

    def get_or_create_state(self) -> str:
        """Start a login: a fresh state (and PKCE verifier) remembered in the session."""
        now = int(time.time())
        lifetime = self._state_lifetime()
        pending = {k: v for k, v in self._pending().items() if 0 <= now - v["issued"] <= lifetime}
        state = self.strategy.random_string(32)
        entry = self.new_login(now)
        pending[state] = entry
        newest = sorted(pending.items(), key=lambda item: item[1]["issued"])[-MAX_PENDING_LOGINS:]
        self.strategy.session_set(self._pending_key(), dict(newest))
        self._login = entry
        return state

    def new_login(self, now: int) -> dict[str, Any]:
        """What the session keeps about a login beside its state (JSON-serializable).

        When it began and its PKCE verifier; a subclass may add to it (the OpenID Connect
        backend adds its nonce). ``validate_state`` hands it back as ``self._login``.
        """
        entry: dict[str, Any] = {"issued": now}
        if self._use_pkce():
            entry["verifier"] = self.strategy.random_string(64)
        return entry

    def auth_params(self, state: str | None = None) -> dict[str, str]:
        params: dict[str, str] = super().auth_params(state)
        verifier = getattr(self, "_login", {}).get("verifier")
        if verifier:
            digest = hashlib.sha256(verifier.encode("ascii")).digest()
            params["code_challenge"] = base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
            params["code_challenge_method"] = "S256"
        return params

    def validate_state(self) -> str:
        """Check and consume the callback's state; a second use of it finds nothing."""
        request_state = self.data.get("state")
        if not isinstance(request_state, str) or not request_state:
            logger.warning("Ion's callback carried no state; login refused")
            raise IonStateError(
                self,
                "The answer from Ion did not say which login it belongs to. Please log in again.",
                code="missing_parameter",
                stage="callback",
            )
        pending = self._pending()
        entry = None
        for state in list(pending):
            if hmac.compare_digest(state.encode(), request_state.encode()):
                entry = pending.pop(state)
        self.strategy.session_set(self._pending_key(), pending)
        if entry is None:
            logger.warning(
                "Ion's callback carried a state this session did not issue, or used it "
                "already; login refused"
            )
            raise IonStateError(
                self,
                "This answer from Ion does not belong to a login started in this browser, "
                "or it was used already. Please log in again.",
                code="state_mismatch",
                stage="callback",
            )
        if not 0 <= int(time.time()) - entry["issued"] <= self._state_lifetime():
            logger.warning(
                "Ion's callback came after SOCIAL_AUTH_ION_STATE_LIFETIME; login refused"
            )
            raise IonStateError(
                self,
                "The login took too long to finish. Please log in again.",
                code="response_expired",
                stage="callback",
            )
        if not self._first_use(request_state, entry["issued"]):
            logger.warning("Ion's callback carried a state that was used already; login refused")
            raise IonStateError(
                self,
                "This answer from Ion does not belong to a login started in this browser, "
                "or it was used already. Please log in again.",
                code="state_mismatch",
                stage="callback",
            )
        self._login = entry
        return request_state

    def _first_use(self, state: str, issued: int) -> bool:
        """Record in the database that ``state`` is used; False if it already was.

        The session is saved whole at the end of each request, so a login begun in
        another tab at the same moment could write a consumed state back into it. A row
        per used state (social-auth's nonce table, unique) cannot be written back.
        """
        nonces = self.strategy.storage.nonce
        scope = f"ion_oauth:{self.name}:state"
        objects = getattr(nonces, "objects", None)
        if objects is not None:
            # States older than their lifetime are refused anyway; forget their rows.
            cutoff = int(time.time()) - self._state_lifetime() - 60
            objects.filter(server_url=scope, timestamp__lt=cutoff).delete()
        salt = hashlib.sha256(state.encode()).hexdigest()
        return bool(nonces.use(scope, issued, salt))

    # -- the callback -------------------------------------------------------------

    def process_error(self, data: Any, *args: Any, **kwargs: Any) -> None:
        """Turn an ``error`` on the callback (Cancel on Ion's consent page...) into a message."""
        error = data.get("error") if hasattr(data, "get") else None
        if not error:
            return
        if error == "access_denied":
            # Not a fault of the site: logged at INFO, so a site can count cancels.
            logger.info("The person cancelled the login on Ion (error=access_denied)")
            raise IonLoginCancelled(
                self,
                "You cancelled the login on Ion, so you are not logged in.",
                stage="callback",
                provider_error=error,
            )
        shown = error if isinstance(error, str) and _OAUTH_ERROR.match(error) else "unknown error"
        logger.warning("Ion redirected back with error=%s", shown)
        raise IonRejected(
            self,
            f"Ion could not log you in ({shown}). Please try again.",
            code="http_error",
            stage="callback",
            provider_error=shown,
        )

    @sensitive_variables()
    def auth_complete(self, *args: Any, **kwargs: Any) -> Any:
        """Finish a login: check the callback, trade the code for a token, load the profile."""
        self.process_error(self.data)
        state = self.validate_state()
        code = self.data.get("code")
        if not isinstance(code, str) or not code or len(code) > 512:
            raise IonCallbackError(
                self,
                "The answer from Ion carried no sign-in code. Please log in again.",
                stage="callback",
            )
        params = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.get_redirect_uri(state),
        }
        verifier = self._login.get("verifier")
        if verifier:
            params["code_verifier"] = verifier
        token = self._token_request(params, stage="token_exchange")
        return self.do_auth(token["access_token"], *args, response=token, **kwargs)

    @sensitive_variables()
    def _token_request(self, params: dict[str, str], *, stage: str) -> dict[str, Any]:
        key, secret = self.get_key_and_secret()
        data = {**params, "client_id": key or ""}
        if secret:
            data["client_secret"] = secret
        body = transport.request_json(
            "POST",
            self.access_token_url(),
            what="token",
            timeout=self.timeout(),
            backend=self,
            stage=stage,
            data=data,
            headers={"Accept": "application/json"},
            # Sent again if a kept-alive connection died unanswered (see transport.send).
            replayable=True,
        )
        return parse_token(body, backend=self, stage=stage)

    @sensitive_variables()
    def user_data(self, access_token: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The one profile request of a login, with the token in the Authorization header."""
        body = transport.request_json(
            "GET",
            self.profile_url(),
            what="profile",
            timeout=self.timeout(),
            backend=self,
            stage="user_info",
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
        )
        return parse_profile(body, backend=self)

    def get_user_id(self, details: dict[str, Any], response: dict[str, Any]) -> str:
        return str(response["id"])

    def get_user_details(self, response: dict[str, Any]) -> dict[str, Any]:
        """Map Ion's profile onto the fields social-auth fills in on the user."""
        return {
            "username": response["ion_username"],
            "email": response.get("tj_email") or "",
            "fullname": response.get("full_name") or "",
            "first_name": response.get("first_name") or "",
            "last_name": response.get("last_name") or "",
        }

    # -- tokens after login -------------------------------------------------------

    @sensitive_variables()
    def refresh_token(self, token: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Trade a refresh token for new tokens; Ion rotates the refresh token each time.

        Raises :class:`~ion_oauth.exceptions.IonLoginRequired` when Ion no longer accepts
        the refresh token (revoked, older than 30 days, or the app was removed).
        """
        try:
            return self._token_request(
                {"grant_type": "refresh_token", "refresh_token": token}, stage="refresh"
            )
        except IonRejected as error:
            if error.provider_error != "invalid_grant":
                raise
            raise IonLoginRequired(
                self,
                "Your Ion login has expired or was revoked. Please log in with Ion again.",
                stage="refresh",
                status_code=error.status_code,
                provider_error=error.provider_error,
            ) from error

    @sensitive_variables()
    def revoke_token(self, token: str, uid: str) -> bool:
        """Revoke a token at Ion when a user disconnects; a failure is logged, not raised."""
        key, secret = self.get_key_and_secret()
        data = {"token": token, "client_id": key or ""}
        if secret:
            data["client_secret"] = secret
        try:
            status, _body, _headers = transport.send(
                "POST",
                self.revoke_token_url(token, uid),
                what="revoke",
                timeout=self.timeout(),
                backend=self,
                stage="disconnect",
                data=data,
            )
        except IonAuthError:
            return False
        return status == 200
