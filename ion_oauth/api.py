"""Call Ion's API as a user, refreshing the access token without ever racing.

For a Django user who logged in with Ion::

    from ion_oauth.api import IonClient

    client = IonClient.for_user(request.user)
    profile = client.get("profile")            # GET <base>/api/profile
    schedule = client.get("/api/schedule")     # a path from the root works too

Without Django (a script holding a token from requests-oauthlib)::

    client = IonClient.from_token(
        token,                                  # {"access_token", "refresh_token", "expires_at"...}
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        on_token=save_token,                    # called with the new token dict
    )

Ion rotates refresh tokens and revokes the old one at once, so two refreshes of one token
at the same time log the user out. A refresh is therefore single-flight: threads of one
process queue on a lock, and processes or servers sharing the database queue on a
``SELECT ... FOR UPDATE`` of the ``UserSocialAuth`` row; whoever comes second re-reads
the row and uses the winner's token instead of refreshing again. SQLite ignores
``FOR UPDATE``, so there only the threads of one process are kept apart.

When Ion no longer accepts the refresh token the client raises
:class:`~ion_oauth.exceptions.IonLoginRequired`; :mod:`ion_oauth.middleware` turns that
into a trip through the Ion login and back.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlencode, urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.views.decorators.debug import sensitive_variables
from social_core.strategy import BaseStrategy

from ion_oauth import transport
from ion_oauth.api_methods import IonApiMethods
from ion_oauth.conf import DEFAULTS, PREFIX, ion_settings
from ion_oauth.exceptions import IonLoginRequired, IonRejected
from ion_oauth.oauth import IonOauth2
from ion_oauth.oidc import IonOpenIdConnect

if TYPE_CHECKING:
    _Strategy = BaseStrategy[Any]
else:
    # BaseStrategy is generic only from social-auth-core 5 on.
    _Strategy = BaseStrategy

#: The backends whose logins carry Ion tokens (OAuth2 and OpenID Connect).
ION_PROVIDERS = ("ion", "ion-oidc")
#: Default for ``SOCIAL_AUTH_ION_REFRESH_MARGIN``: refresh when fewer seconds remain.
DEFAULT_REFRESH_MARGIN: float = DEFAULTS["REFRESH_MARGIN"]
#: What Ion answers (HTTP 403) to an expired, revoked or unknown access token.
NOT_AUTHENTICATED = "Authentication credentials were not provided."
#: ``expires`` above this is a timestamp, below it a lifetime (social-core's rule).
_TIMESTAMP_THRESHOLD = 63_072_000


def refresh_margin() -> float:
    """``SOCIAL_AUTH_ION_REFRESH_MARGIN``: seconds before expiry at which to refresh."""
    return ion_settings.REFRESH_MARGIN


@dataclass(frozen=True)
class Token:
    """An access token and when it stops working (``None``: unknown, trust it until a 403)."""

    # Left out of repr() so a logged Token does not leak the secret.
    access_token: str = field(repr=False)
    expires_at: float | None = None

    def expiring(self, margin: float) -> bool:
        """Whether fewer than ``margin`` seconds of the token's life remain."""
        return self.expires_at is not None and self.expires_at - time.time() < margin


class TokenStore(Protocol):
    """Where a client's tokens live; ``refresh`` must be single-flight."""

    def current(self) -> Token:
        """The access token to use now."""

    def refresh(self, stale: Token, margin: float) -> Token:
        """Replace ``stale`` unless someone already did; return the token to use."""


class IonClient(IonApiMethods):
    """Ion's API for one user: bearer token, refresh before expiry and once on rejection.

    Build it with :meth:`for_user`, :meth:`for_social` or :meth:`from_token`. Every request
    goes through :mod:`ion_oauth.transport`, so connections are pooled, there is a timeout,
    and failures are ``IonUnavailable`` / ``IonRejected`` / ``IonResponseError``.
    """

    def __init__(
        self, store: TokenStore, *, base_url: str, timeout: float, refresh_margin: float
    ) -> None:
        self.store = store
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.refresh_margin = refresh_margin

    # -- building one -------------------------------------------------------------

    @classmethod
    def for_user(cls, user: Any, *, provider: str | None = None) -> IonClient:
        """The client for a Django user's Ion login.

        ``provider`` is the backend name, ``"ion"`` or ``"ion-oidc"``; by default whichever
        of the two the user logged in with. Raises ``IonLoginRequired`` when the user has no
        Ion login (or is anonymous), so the same handling sends them to log in with Ion.
        """
        social = None
        if getattr(user, "is_authenticated", False):
            providers = [provider] if provider else list(ION_PROVIDERS)
            social = user.social_auth.filter(provider__in=providers).order_by("pk").first()
        if social is None:
            raise IonLoginRequired(
                None,
                "Please log in with Ion to continue.",
                code="missing_credentials",
                stage="refresh",
            )
        return cls.for_social(social)

    @classmethod
    def for_social(cls, social: Any) -> IonClient:
        """The client for one ``UserSocialAuth`` row; new tokens are saved to it.

        Ion's base URL and timeout are those of the backend the row belongs to: an
        ``ion-oidc`` login's token goes to ``SOCIAL_AUTH_ION_OIDC_BASE_URL`` when it is set.
        """
        from social_django.utils import load_strategy

        strategy = load_strategy()  # type: ignore[no-untyped-call]
        oidc = social.provider == IonOpenIdConnect.name
        backend = IonOpenIdConnect(strategy) if oidc else IonOauth2(strategy)
        return cls(
            SocialTokenStore(social),
            base_url=backend.base_url(),
            timeout=backend.timeout(),
            refresh_margin=refresh_margin(),
        )

    @classmethod
    @sensitive_variables()
    def from_token(
        cls,
        token: Mapping[str, Any],
        *,
        client_id: str,
        client_secret: str,
        on_token: Callable[[dict[str, Any]], object],
        base_url: str = DEFAULTS["BASE_URL"],
        timeout: float = DEFAULTS["TIMEOUT"],
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
    ) -> IonClient:
        """A client without Django settings or database, from a token dict.

        ``token`` is what Ion's token endpoint (or requests-oauthlib) returned;
        ``on_token`` is called with every new token dict so the caller can store it; if
        it raises, the error reaches the caller (the client keeps the new token, because
        Ion has already revoked the old refresh token).
        Share one client between the threads that use a token: refresh is single-flight
        within a client.
        """
        store = DictTokenStore(
            token,
            client_id=client_id,
            client_secret=client_secret,
            on_token=on_token,
            base_url=base_url,
            timeout=timeout,
        )
        return cls(store, base_url=base_url, timeout=timeout, refresh_margin=refresh_margin)

    # -- calling Ion --------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        """GET an API path (``"profile"`` is ``/api/profile``) and return its JSON."""
        return self.request("GET", path, params=params)

    def post(self, path: str, data: Mapping[str, str] | None = None) -> dict[str, Any]:
        """POST form data to an API path (needs the ``write`` scope) and return its JSON."""
        return self.request("POST", path, data=data)

    @sensitive_variables()
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Send one API request with the user's token; refresh it if it is about to expire
        and, once, if Ion rejects it."""
        status, body, headers = self.exchange(method, path, params=params, data=data)
        return transport.check_response(status, body, headers, what="API", stage="user_info")

    def exchange(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        accept: str = "application/json",
    ) -> tuple[int, bytes, Mapping[str, str]]:
        """:meth:`request` without reading the answer: Ion's status, body and headers, for
        any answer but a rejected token (which refreshes, once, as in :meth:`request`)."""
        url = self.url(path, params)
        token = self.store.current()
        if token.expiring(self.refresh_margin):
            token = self.store.refresh(token, self.refresh_margin)
        refreshed_on_rejection = False
        while True:
            status, body, headers = transport.send(
                method,
                url,
                what="API",
                timeout=self.timeout,
                stage="user_info",
                headers={"Authorization": f"Bearer {token.access_token}", "Accept": accept},
                data=data,
            )
            if not token_rejected(status, body):
                return status, body, headers
            if refreshed_on_rejection:
                raise IonRejected(
                    None,
                    "Ion did not accept the access token even after refreshing it.",
                    code="token_rejected",
                    stage="user_info",
                    status_code=status,
                )
            token = self.store.refresh(token, self.refresh_margin)
            refreshed_on_rejection = True

    def url(self, path: str, params: Mapping[str, str] | None = None) -> str:
        """The URL of an API path; a bare name is under ``/api/``.

        Full URLs are refused: the token goes only to ``base_url``, and a URL of another
        host here is a mistake worth hearing about.
        """
        parts = urlsplit(path)
        if parts.scheme or parts.netloc:
            raise ValueError(f"Expected a path on Ion such as 'profile', got {path!r}.")
        if not path.startswith("/"):
            path = "/api/" + path
        query = f"?{urlencode(params)}" if params else ""
        return f"{self.base_url}{path}{query}"


def token_rejected(status: int, body: bytes) -> bool:
    """Whether Ion refused the request because of the access token itself.

    Ion answers a bad token with 403 and :data:`NOT_AUTHENTICATED`; a 403 with any other
    detail means the user may not do this, which a new token would not change.
    """
    if status == 401:
        return True
    if status != 403:
        return False
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    return isinstance(payload, dict) and payload.get("detail") == NOT_AUTHENTICATED


def token_from_extra_data(extra_data: Mapping[str, Any]) -> Token:
    """The access token and expiry social-auth stored (``expires`` and ``auth_time``)."""
    access_token = extra_data.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise IonLoginRequired(
            None, "Please log in with Ion again.", code="missing_credentials", stage="refresh"
        )
    try:
        expires = int(extra_data["expires"])
        auth_time = int(extra_data.get("auth_time") or 0)
    except (KeyError, TypeError, ValueError):
        return Token(access_token, None)
    if expires > _TIMESTAMP_THRESHOLD:
        return Token(access_token, float(expires))
    return Token(access_token, float((auth_time or time.time()) + expires))


# -- Django: tokens in a UserSocialAuth row -----------------------------------------

#: Threads refreshing the same row queue on one of these; a fixed set keeps memory
#: bounded, and two users sharing a lock only ever wait for each other's refresh.
_ROW_LOCKS = tuple(threading.Lock() for _ in range(64))


def _row_lock(database: str, pk: object) -> threading.Lock:
    return _ROW_LOCKS[hash((database, pk)) % len(_ROW_LOCKS)]


def _inside_callers_transaction(database: str) -> bool:
    """Whether a transaction of the caller's is open (a test case's own does not count)."""
    from django.db import connections, transaction

    if not connections[database].in_atomic_block:
        return False
    try:
        # Django refuses a durable block inside another, except inside a test case's.
        with transaction.atomic(using=database, durable=True):
            return False
    except RuntimeError:
        return True


def _on_own_connection(call: Callable[[], Token]) -> Token:
    """Run ``call`` in a new thread, hence on its own database connection; its result."""
    from django.db import connections

    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["token"] = call()
        except BaseException as error:  # handed to the caller below
            outcome["error"] = error
        finally:
            connections.close_all()  # this thread's connections only

    thread = threading.Thread(target=run, name="ion-oauth-refresh")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    token: Token = outcome["token"]
    return token


class SocialTokenStore:
    """Tokens in a ``UserSocialAuth`` row, refreshed under a thread lock and a row lock."""

    def __init__(self, social: Any) -> None:
        self.social = social

    def current(self) -> Token:
        """The token in the row as this process last read it."""
        return token_from_extra_data(self.social.extra_data or {})

    @sensitive_variables()
    def refresh(self, stale: Token, margin: float) -> Token:
        """Refresh unless the locked, re-read row already holds a usable new token.

        Ion revokes the old refresh token at once, so the new tokens are committed
        whatever the caller's transaction does: inside one (``ATOMIC_REQUESTS``,
        ``transaction.atomic()``) the refresh runs on a connection of its own.
        """
        from django.db import router

        database = router.db_for_write(type(self.social), instance=self.social)
        if _inside_callers_transaction(database):
            return _on_own_connection(lambda: self._refresh(stale, margin, database))
        return self._refresh(stale, margin, database)

    @sensitive_variables()
    def _refresh(self, stale: Token, margin: float, database: str) -> Token:
        from django.db import transaction
        from social_django.utils import load_strategy

        model = type(self.social)
        with _row_lock(database, self.social.pk), transaction.atomic(using=database):
            row = model.objects.using(database).select_for_update().get(pk=self.social.pk)
            extra_data = dict(row.extra_data or {})
            token = token_from_extra_data(extra_data)
            if token.access_token == stale.access_token or token.expiring(margin):
                refresh_token = extra_data.get("refresh_token")
                if not refresh_token:
                    raise IonLoginRequired(
                        None,
                        "Please log in with Ion again.",
                        code="missing_credentials",
                        stage="refresh",
                    )
                strategy = load_strategy()  # type: ignore[no-untyped-call]
                if row.get_backend_instance(strategy) is None:
                    raise ImproperlyConfigured(
                        f"The {row.provider!r} backend is not in AUTHENTICATION_BACKENDS, "
                        "so its tokens cannot be refreshed."
                    )
                # social-auth's own refresh: the backend's refresh_token() and extra_data()
                # decide what is stored, as at login (the OIDC backend keeps the new ID
                # token; fields the response lacks keep their values), and it saves the row.
                row.refresh_token(strategy)
                extra_data = dict(row.extra_data or {})
                token = token_from_extra_data(extra_data)
        self.social.extra_data = extra_data
        return token


# -- without Django: tokens in a dict ------------------------------------------------


class _PlainStrategy(_Strategy):
    """Just enough of a social-core strategy for the backend's refresh: settings."""

    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__()
        self.values = values

    def get_setting(self, name: str) -> Any:
        return self.values[name]

    def request_data(self, merge: bool = True) -> dict[str, Any]:
        return {}

    def build_absolute_uri(self, path: str | None = None) -> str:
        return path or ""


class DictTokenStore:
    """A token dict held in memory; new tokens are handed to ``on_token`` to persist."""

    @sensitive_variables()
    def __init__(
        self,
        token: Mapping[str, Any],
        *,
        client_id: str,
        client_secret: str,
        on_token: Callable[[dict[str, Any]], object],
        base_url: str,
        timeout: float,
    ) -> None:
        self.token = self._with_expires_at(token, now=time.time())
        self.on_token = on_token
        self.lock = threading.Lock()
        self.backend = IonOauth2(
            _PlainStrategy(
                {
                    PREFIX + "KEY": client_id,
                    PREFIX + "SECRET": client_secret,
                    PREFIX + "BASE_URL": base_url,
                    PREFIX + "TIMEOUT": timeout,
                }
            )
        )

    @staticmethod
    def _with_expires_at(token: Mapping[str, Any], *, now: float) -> dict[str, Any]:
        """requests-oauthlib's shape: ``expires_at`` filled in from ``expires_in``."""
        token = dict(token)
        if token.get("expires_at") is None and token.get("expires_in") is not None:
            token["expires_at"] = now + float(token["expires_in"])
        return token

    def current(self) -> Token:
        """The token this client holds."""
        access_token = self.token.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise IonLoginRequired(
                None, "Please log in with Ion again.", code="missing_credentials", stage="refresh"
            )
        expires_at = self.token.get("expires_at")
        return Token(access_token, None if expires_at is None else float(expires_at))

    @sensitive_variables()
    def refresh(self, stale: Token, margin: float) -> Token:
        """Refresh unless another thread already replaced ``stale``."""
        with self.lock:
            token = self.current()
            if token.access_token != stale.access_token and not token.expiring(margin):
                return token
            refresh_token = self.token.get("refresh_token")
            if not refresh_token:
                raise IonLoginRequired(
                    None,
                    "Please log in with Ion again.",
                    code="missing_credentials",
                    stage="refresh",
                )
            response = self.backend.refresh_token(refresh_token)
            new = self._with_expires_at(response, now=time.time())
            new.setdefault("refresh_token", refresh_token)
            self.token = new
            self.on_token(dict(new))
            return self.current()
