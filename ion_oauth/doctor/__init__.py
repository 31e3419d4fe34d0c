"""``manage.py ion_doctor``: find what is wrong before a person clicks "Log in with Ion".

:func:`diagnose` returns one :class:`Finding` per check, for each Ion backend in
``AUTHENTICATION_BACKENDS`` (reachable, is it Ion, OpenID Connect discovery and keys, the
client id and secret, the clock, the redirect URIs to register, cookie names on a shared
host name) and for the site (its host, its session cookie).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ion_oauth.doctor.findings import Finding, as_json, as_text, counts, summary
from ion_oauth.doctor.ion import Probe, Target, targets
from ion_oauth.doctor.site import (
    SITE,
    redirect_uri_findings,
    redirect_uris,
    site_findings,
    site_urls,
)

__all__ = ["Finding", "as_json", "as_text", "counts", "diagnose", "headings", "summary"]


def diagnose(site_url: str | None = None) -> list[Finding]:
    """Run every check; ``site_url`` is the site's root as people reach it."""
    urls = site_urls(site_url)
    given = site_url is not None
    found: list[Target] = targets()
    findings: list[Finding] = []
    if not found:
        findings.append(
            Finding(
                SITE,
                "backends",
                "error",
                "No Ion backend is in AUTHENTICATION_BACKENDS (ion_oauth.E001).",
                "AUTHENTICATION_BACKENDS",
            )
        )
    for target in found:
        ion_host = urlsplit(target.base_url).hostname
        share_host = any(urlsplit(url).hostname == ion_host for url in urls)
        uris = redirect_uris(target.name, urls)
        probe = Probe(target, share_host=share_host, redirect_uri=uris[0] if uris else None)
        findings += probe.run()
        findings += redirect_uri_findings(target.name, urls, given=given)
    findings += site_findings(urls, given=given)
    return findings


def headings(site_url: str | None = None) -> dict[str, str]:
    """A heading per section of the text report."""
    titles = {t.name: f"{t.name} ({t.path}) at {t.base_url}" for t in targets()}
    urls = site_urls(site_url)
    titles[SITE] = f"site {', '.join(urls)}" if urls else "site"
    return titles
