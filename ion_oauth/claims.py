"""Pure checks on the OpenID Connect documents Ion sends: discovery, keys and ID token claims.

The siblings of :mod:`ion_oauth.profile` for OpenID Connect: each turns what Ion sent into
what the package uses, or raises :class:`~ion_oauth.exceptions.IonResponseError` naming the
field that is wrong. Nothing here makes a request.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import jwt

from ion_oauth.exceptions import IonResponseError

if TYPE_CHECKING:
    from social_core.backends.base import BaseAuth

logger = logging.getLogger("ion_oauth")

#: Ion signs ID tokens with RS256; HS256, which Ion also offers, is never accepted.
ALGORITHMS = ["RS256"]

_ENDPOINTS = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


def _is_http_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _response_error(
    backend: BaseAuth[object] | None, what: str, field: str, stage: str
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
    backend: BaseAuth[object] | None = None,
    stage: str = "unknown",
    base_url: str | None = None,
) -> dict[str, str]:
    """Check Ion's discovery document; return the endpoints this package uses.

    With ``base_url`` (where the site says Ion is), every endpoint must be on its scheme,
    host and port, and the issuer must be ``<base_url>/oauth`` as Ion publishes it: the
    document decides where the client secret and the user's tokens go.
    """
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
    if base_url is not None:
        _check_on_ion(config, base_url.rstrip("/"), backend=backend, stage=stage)
    return config


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default_port


def _check_on_ion(
    config: Mapping[str, str], base_url: str, *, backend: BaseAuth[object] | None, stage: str
) -> None:
    expected_issuer = f"{base_url}/oauth"
    wrong = None
    if config["issuer"].rstrip("/") != expected_issuer:
        wrong = "issuer"
    for field, url in config.items():
        if wrong is None and _origin(url) != _origin(base_url):
            wrong = field
    if wrong is None:
        return
    logger.warning(
        "Ion's OpenID configuration names %s %r, which is not on the base URL %r",
        wrong,
        config[wrong].split("?", 1)[0],
        base_url,
    )
    raise IonResponseError(
        backend,
        f"Ion's OpenID configuration points its '{wrong}' away from {base_url}, so this "
        "site did not use it. You were not logged in; please tell the site's administrator.",
        code="invalid_claim",
        stage=stage,
    )


def parse_jwks(
    data: Mapping[str, Any],
    *,
    backend: BaseAuth[object] | None = None,
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
    backend: BaseAuth[object] | None = None,
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


def describe_jwt_error(error: jwt.PyJWTError) -> tuple[str, str]:
    """What PyJWT's ``error`` says the ID token did, and the error code for it."""
    for error_type, what, code in _JWT_ERRORS:
        if isinstance(error, error_type):
            return what, code
    return "could not be read", "malformed_response"


def invalid_id_token(backend: BaseAuth[object], what: str, code: str) -> IonResponseError:
    """The login error for an ID token that ``what`` (e.g. "has expired"); logged as a warning."""
    logger.warning("Rejected an ID token from Ion: it %s (%s)", what, code)
    return IonResponseError(
        backend,
        f"Ion's answer could not be verified: its ID token {what}. "
        "You were not logged in; please log in again.",
        code=code,
        stage="token_validation",
    )


def unknown_key(backend: BaseAuth[object], kid: str) -> IonResponseError:
    """The login error for an ID token signed with a key Ion does not publish."""
    logger.warning("Ion's ID token names signing key %r, which Ion does not publish", kid[:64])
    return IonResponseError(
        backend,
        "Ion's answer could not be verified: its ID token is signed with a key Ion does "
        "not publish. You were not logged in; please try again in a minute.",
        code="invalid_signature",
        stage="token_validation",
    )


def at_hash(access_token: str) -> str:
    """The ``at_hash`` of an access token for an RS256 ID token (OpenID Connect Core 3.1.3.6)."""
    digest = hashlib.sha256(access_token.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode("ascii").rstrip("=")
