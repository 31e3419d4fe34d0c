"""What ``ion_doctor`` checks on this site's side: its URL, redirect URIs and cookies."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import validate_host
from django.urls import NoReverseMatch, reverse

from ion_oauth.checks.common import LOOPBACK_HOSTS
from ion_oauth.checks.cookies import cookie_errors
from ion_oauth.doctor.findings import Finding

SITE = "site"


def site_urls(site_url: str | None) -> list[str]:
    """The site's root URLs: ``--site-url``, or one per host in ``ALLOWED_HOSTS``.

    The scheme is https when ``SOCIAL_AUTH_REDIRECT_IS_HTTPS`` is on (as social-auth
    builds its redirect URI), http otherwise. Wildcards (``*``, ``.example.com``) name no
    host and are left out; with ``DEBUG`` and no ``ALLOWED_HOSTS``, Django's own
    ``localhost``, ``127.0.0.1`` and ``[::1]``.
    """
    if site_url:
        return [site_url.rstrip("/")]
    scheme = "https" if getattr(settings, "SOCIAL_AUTH_REDIRECT_IS_HTTPS", False) else "http"
    hosts = list(getattr(settings, "ALLOWED_HOSTS", []))
    if not hosts and settings.DEBUG:
        hosts = ["localhost", "127.0.0.1", "[::1]"]
    return [f"{scheme}://{host}" for host in hosts if host and not host.startswith((".", "*"))]


def is_loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in LOOPBACK_HOSTS


def callback_path(backend_name: str) -> str | None:
    """Where social-auth's callback for this backend is mounted, or None if it is not."""
    try:
        return reverse("social:complete", args=[backend_name])
    except NoReverseMatch:
        return None


def redirect_uris(backend_name: str, urls: list[str]) -> list[str]:
    """What to register on Ion: each site URL's callback, with and without its slash."""
    path = callback_path(backend_name) or f"/complete/{backend_name}/"
    uris: list[str] = []
    for url in urls:
        uris += [f"{url}{path}", f"{url}{path.rstrip('/')}"]
    return uris


def redirect_uri_findings(backend_name: str, urls: list[str], *, given: bool) -> list[Finding]:
    """The redirect URIs to paste into Ion's application form, and what is wrong with them."""
    findings: list[Finding] = []
    if callback_path(backend_name) is None:
        findings.append(
            Finding(
                backend_name,
                "callback",
                "error",
                f"No URL pattern named 'social:complete' for {backend_name!r}: Ion has "
                "nowhere to send people back to.",
                setting="ROOT_URLCONF (add path('', include('social_django.urls')))",
            )
        )
    if not urls:
        return [
            *findings,
            Finding(
                backend_name,
                "redirect URIs",
                "warning",
                "ALLOWED_HOSTS names no host, so the site's URL is unknown; pass "
                "--site-url https://your.site to see the redirect URIs to register.",
                setting="--site-url",
            ),
        ]
    uris = redirect_uris(backend_name, urls)
    note = "" if given else " (add the port if the site has one, or pass --site-url)"
    findings.append(
        Finding(
            backend_name,
            "redirect URIs",
            "ok",
            f"register these on Ion's application form{note}:\n" + "\n".join(uris),
            data={"redirect_uris": uris},
        )
    )
    cleartext = [u for u in urls if urlsplit(u).scheme == "http" and not is_loopback(u)]
    if cleartext and not settings.DEBUG:
        findings.append(
            Finding(
                backend_name,
                "redirect URIs",
                "warning",
                f"{', '.join(cleartext)} is plain http while DEBUG is off: Ion's sign-in "
                "code would cross the network in clear text.",
                setting="SOCIAL_AUTH_REDIRECT_IS_HTTPS (behind a TLS proxy) or --site-url https://…",
            )
        )
    return findings


def site_findings(urls: list[str], *, given: bool) -> list[Finding]:
    """The site's host and session cookie, as the browser will see them."""
    findings: list[Finding] = []
    allowed = list(getattr(settings, "ALLOWED_HOSTS", []))
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    for url in urls if given else ():
        host = urlsplit(url).hostname or ""
        if not validate_host(host if ":" not in host else f"[{host}]", allowed):
            findings.append(
                Finding(
                    SITE,
                    "host",
                    "error",
                    f"{host} is not in ALLOWED_HOSTS: Django answers 400 to every request "
                    "for it, Ion's callback included.",
                    setting="ALLOWED_HOSTS",
                )
            )
    for message in cookie_errors():
        if message.id == "ion_oauth.W020":
            continue  # DEBUG's guess at plain http; the site's URL below says it for sure
        findings.append(
            Finding(
                SITE,
                "cookies",
                "error",
                f"{message.msg} {message.hint} ({message.id})",
                setting="SESSION_COOKIE_SAMESITE",
            )
        )
    secure = bool(getattr(settings, "SESSION_COOKIE_SECURE", False))
    plain = [u for u in urls if urlsplit(u).scheme == "http"]
    if secure and plain:
        findings.append(
            Finding(
                SITE,
                "cookies",
                "error",
                f"SESSION_COOKIE_SECURE is on but the site is {', '.join(plain)}: the browser "
                "keeps a Secure cookie for https only, so it does not come back with the "
                "callback and every login fails with the state missing.",
                setting="SESSION_COOKIE_SECURE (or serve the site over https)",
            )
        )
    if not any(f.level != "ok" for f in findings):
        findings.append(
            Finding(
                SITE,
                "cookies",
                "ok",
                f"the session cookie ({settings.SESSION_COOKIE_NAME}, SameSite="
                f"{getattr(settings, 'SESSION_COOKIE_SAMESITE', 'Lax') or 'unset'}"
                f"{', Secure' if secure else ''}) comes back from Ion.",
            )
        )
    return findings
