"""What ``ion_doctor`` asks Ion, for one backend: is it there, is it Ion, does it know
this site's client, do the clocks agree. Nothing is created on Ion: the only write-shaped
request is a token request with a made-up code, which Ion refuses either way."""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.module_loading import import_string
from django.views.decorators.debug import sensitive_variables
from social_core.utils import setting_name
from social_django.utils import load_strategy

from ion_oauth.doctor.findings import Finding, Level
from ion_oauth.doctor.network import Answer, Unreachable, connect, fetch
from ion_oauth.oauth import IonOauth2
from ion_oauth.oidc import DISCOVERY_PATH, LEEWAY, IonOpenIdConnect

#: Ion's clock may differ from ours by this much before the report mentions it.
CLOCK_OK = 5


@dataclass(frozen=True)
class Target:
    """One Ion backend as this site configures it."""

    path: str
    backend: IonOauth2

    @property
    def name(self) -> str:
        return self.backend.name

    @property
    def oidc(self) -> bool:
        return isinstance(self.backend, IonOpenIdConnect)

    @property
    def base_url(self) -> str:
        return self.backend.base_url()

    def setting(self, name: str) -> str:
        """The full name of the setting that holds ``name`` for this backend (the one set,
        or the backend's own when none is)."""
        if name in IonOauth2.OWN_SETTINGS:
            names = self.backend.own_setting_names(name)
            return next((n for n in names if hasattr(settings, n)), names[0])
        return setting_name(self.name, name)


def targets() -> list[Target]:
    """The Ion backends in ``AUTHENTICATION_BACKENDS``, in their order."""
    strategy = load_strategy()  # type: ignore[no-untyped-call]
    found = []
    for path in getattr(settings, "AUTHENTICATION_BACKENDS", []):
        try:
            cls = import_string(path)
        except ImportError:
            continue
        if isinstance(cls, type) and issubclass(cls, IonOauth2):
            found.append(Target(path, cls(strategy)))
    return found


def _same_origin(url: str, base_url: str) -> bool:
    a, b = urlsplit(url), urlsplit(base_url)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)


class Probe:
    """The checks of one backend; each adds findings and says whether to go on."""

    def __init__(self, target: Target, *, share_host: bool, redirect_uri: str | None) -> None:
        self.target = target
        self.share_host = share_host
        self.redirect_uri = redirect_uri or f"{target.base_url}/ion-doctor/"
        self.findings: list[Finding] = []
        self.answers: list[Answer] = []
        self.timeout = target.backend.timeout()

    def add(
        self,
        check: str,
        level: Level,
        message: str,
        setting: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.findings.append(Finding(self.target.name, check, level, message, setting, data or {}))

    def get(self, path: str) -> Answer:
        answer = fetch("GET", self.target.base_url + path, self.timeout)
        self.answers.append(answer)
        return answer

    def run(self) -> list[Finding]:
        if self.reachable() and self.is_ion() and (not self.target.oidc or self.oidc()):
            self.credentials()
            self.clock()
            if self.share_host:
                self.cookie_names()
        return self.findings

    def reachable(self) -> bool:
        base = self.target.base_url
        setting = self.target.setting("BASE_URL")
        try:
            timings = connect(base, self.timeout)
            self.profile = self.get("/api/profile")
        except Unreachable as error:
            self.add(
                "reachable",
                "error",
                f"Ion is not reachable at {base}: {error.step.upper()}: {error.message}",
                setting,
                {"step": error.step},
            )
            return False
        steps = [f"DNS {timings['dns_ms']:g} ms", f"TCP {timings['tcp_ms']:g} ms"]
        steps.append(
            f"TLS {timings['tls_ms']:g} ms (certificate verified)"
            if "tls_ms" in timings
            else "no TLS (http)"
        )
        self.add(
            "reachable",
            "ok",
            f"{base}: {', '.join(steps)}; /api/profile answered in {self.profile.elapsed_ms:g} ms.",
            data={**timings, "http_ms": self.profile.elapsed_ms},
        )
        return True

    def is_ion(self) -> bool:
        answer = self.profile
        body = answer.json
        if answer.status == 403 and isinstance(body, dict) and "detail" in body:
            self.add("is Ion", "ok", "/api/profile without a token answers Ion's 403.")
            return True
        where = answer.headers.get("Location")
        redirect = f", a redirect to {where}" if where and 300 <= answer.status < 400 else ""
        self.add(
            "is Ion",
            "error",
            f"{self.target.base_url} is not Ion: /api/profile without a token answered "
            f"HTTP {answer.status} ({answer.content_type}{redirect}), where Ion answers 403.",
            self.target.setting("BASE_URL"),
            {"status": answer.status},
        )
        return False

    def oidc(self) -> bool:
        setting = self.target.setting("BASE_URL")
        base = self.target.base_url
        try:
            answer = self.get(DISCOVERY_PATH)
        except Unreachable as error:
            self.add("discovery", "error", f"{DISCOVERY_PATH}: {error.message}", setting)
            return False
        document = answer.json
        if answer.status != 200 or not isinstance(document, dict):
            self.add(
                "discovery",
                "error",
                f"{DISCOVERY_PATH} answered HTTP {answer.status} ({answer.content_type}), not "
                "a discovery document: is OpenID Connect enabled on this Ion?",
                setting,
            )
            return False
        issuer = document.get("issuer")
        expected = f"{base}/oauth"
        if issuer != expected:
            self.add(
                "discovery",
                "error",
                f"Ion's issuer is {issuer!r} but this site expects {expected!r}: every ID "
                "token would be refused.",
                setting,
                {"issuer": issuer, "expected": expected},
            )
            return False
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not _same_origin(jwks_uri, base):
            self.add(
                "discovery",
                "error",
                f"Ion's jwks_uri {jwks_uri!r} is not on {base}.",
                setting,
            )
            return False
        try:
            keys_answer = fetch("GET", jwks_uri, self.timeout)
        except Unreachable as error:
            self.add("keys", "error", f"{jwks_uri}: {error.message}", setting)
            return False
        keys = keys_answer.json.get("keys") if isinstance(keys_answer.json, dict) else None
        rs256 = [
            k.get("kid", "?")
            for k in keys or []
            if isinstance(k, dict)
            and k.get("kty") == "RSA"
            and k.get("alg", "RS256") == "RS256"
            and k.get("use", "sig") == "sig"
        ]
        if not rs256:
            self.add(
                "keys",
                "error",
                f"{jwks_uri} holds no RS256 signing key (HTTP {keys_answer.status}), so no ID "
                "token can be verified.",
                setting,
            )
            return False
        self.add(
            "discovery",
            "ok",
            f"issuer {issuer}; {len(rs256)} RS256 key(s) at {jwks_uri}.",
            data={"issuer": issuer, "kids": rs256},
        )
        return True

    @sensitive_variables("secret", "data")
    def credentials(self) -> None:
        key, secret = self.target.backend.get_key_and_secret()
        key_setting, secret_setting = self.target.setting("KEY"), self.target.setting("SECRET")
        if not key:
            self.add("credentials", "error", f"{key_setting} is not set.", key_setting)
            return
        data = {
            "grant_type": "authorization_code",
            # Made up here: Ion answers invalid_grant once it has accepted the client.
            "code": "ion-doctor-" + secrets.token_urlsafe(24),
            "redirect_uri": self.redirect_uri,
            "client_id": key,
        }
        if secret:
            data["client_secret"] = secret
        url = f"{self.target.base_url}/oauth/token/"
        try:
            answer = fetch("POST", url, self.timeout, data=data)
        except Unreachable as error:
            self.add("credentials", "error", f"/oauth/token/: {error.message}", None)
            return
        self.answers.append(answer)
        body = answer.json
        code = body.get("error") if isinstance(body, dict) else None
        kind = "confidential client with its secret" if secret else "public client, no secret"
        if answer.status == 400 and code == "invalid_grant":
            self.add(
                "credentials",
                "ok",
                f"Ion knows client {key!r} ({kind}): a made-up code got invalid_grant.",
            )
        elif answer.status == 401 or code == "invalid_client":
            fix = (
                f"{key_setting}, {secret_setting}"
                if secret
                else f"{secret_setting} (the application on Ion is confidential), {key_setting}"
            )
            self.add(
                "credentials",
                "error",
                f"Ion does not accept client {key!r} ({kind}): HTTP {answer.status} "
                f"{code or ''}".rstrip()
                + ". The client id or the secret is wrong, or the application was removed.",
                fix,
                {"status": answer.status, "error": code},
            )
        else:
            self.add(
                "credentials",
                "error",
                f"Ion answered a token request with HTTP {answer.status} "
                f"{code or answer.content_type}; it should be 400 invalid_grant.",
                self.target.setting("BASE_URL"),
                {"status": answer.status, "error": code},
            )

    def clock(self) -> None:
        dated = [(a, t) for a in self.answers if (t := a.ion_time()) is not None]
        if not dated:
            self.add("clock", "warning", "Ion sent no Date header; the clocks were not compared.")
            return
        answer, ion_time = min(dated, key=lambda pair: pair[0].elapsed_ms)
        # Date is to the second: Ion's clock read somewhere in [ion_time, ion_time + 1).
        skew = round(ion_time + 0.5 - answer.local_time)
        apart = (
            "agree"
            if abs(skew) <= 1
            else f"differ: Ion's is {abs(skew)} s {'ahead of' if skew > 0 else 'behind'} this machine's"
        )
        message = f"Ion's clock and this machine's {apart}"
        fix: str | None = "this machine's clock (run NTP: timedatectl set-ntp true)"
        level: Level
        if abs(skew) > LEEWAY:
            if self.target.oidc:
                level = "error"
                message += (
                    f"; ID tokens allow only {LEEWAY} s, so every OpenID Connect login fails."
                )
            else:
                level = "warning"
                message += f"; an OpenID Connect login would fail beyond {LEEWAY} s."
        elif abs(skew) > CLOCK_OK:
            level = "warning"
            message += f"; within the ID token's {LEEWAY} s leeway, but drifting."
        else:
            level, fix = "ok", None
            message += "."
        self.add("clock", level, message, fix, {"skew_seconds": skew, "leeway_seconds": LEEWAY})

    def cookie_names(self) -> None:
        """A site on Ion's host name must not use Ion's cookie names (cookies ignore ports)."""
        with contextlib.suppress(Unreachable):  # then only the names seen so far
            self.get("/login/")
        ion_names = set().union(*(a.cookie_names for a in self.answers))
        if "csrftoken" in ion_names:
            ion_names.add("sessionid")  # Django's default names go together
        ours = {
            "SESSION_COOKIE_NAME": settings.SESSION_COOKIE_NAME,
            "CSRF_COOKIE_NAME": settings.CSRF_COOKIE_NAME,
        }
        clash = {setting: name for setting, name in ours.items() if name in ion_names}
        host = urlsplit(self.target.base_url).hostname
        if clash:
            self.add(
                "cookies",
                "error",
                f"this site and Ion share the host name {host} (cookies ignore ports) and "
                f"both use the cookie name(s) {', '.join(sorted(clash.values()))}: Ion's "
                "replaces this site's during the login, which then fails.",
                ", ".join(clash) + " (a name of this site's own)",
                {"ion_cookie_names": sorted(ion_names)},
            )
        else:
            self.add(
                "cookies",
                "ok",
                f"this site shares the host name {host} with Ion but not its cookie names.",
                None,
                {"ion_cookie_names": sorted(ion_names)},
            )
