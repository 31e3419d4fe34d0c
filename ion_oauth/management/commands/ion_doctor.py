"""``python manage.py ion_doctor [--site-url URL] [--json]``; the checks are in
:mod:`ion_oauth.doctor`."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ion_oauth import doctor


def _site_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise CommandError(
            f"--site-url {value!r} must be the site's root, such as https://example.com"
        )
    return value.rstrip("/")


class Command(BaseCommand):
    help = (
        "Check this site's Ion login against Ion itself: reachable, is it Ion, client id and "
        "secret, clock, redirect URIs to register, session cookie. Exits 1 on any error."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--site-url",
            help="The site's root URL as people reach it (default: from ALLOWED_HOSTS and "
            "SOCIAL_AUTH_REDIRECT_IS_HTTPS).",
        )
        parser.add_argument("--json", action="store_true", help="Print the findings as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        site_url = _site_url(options["site_url"]) if options["site_url"] else None
        findings = doctor.diagnose(site_url)
        if options["json"]:
            self.stdout.write(doctor.as_json(findings, site_url=site_url))
        else:
            styles = {
                "ok": self.style.SUCCESS,
                "warning": self.style.WARNING,
                "error": self.style.ERROR,
            }
            text = doctor.as_text(findings, doctor.headings(site_url))
            for line in text.splitlines():
                level = line[2:10].strip()
                self.stdout.write(
                    styles[level](line) if level in styles and line.startswith("  ") else line
                )
        errors, _warnings = doctor.counts(findings)
        if errors:
            raise CommandError(
                f"ion_doctor found {doctor.summary(findings)} Fix the lines marked error.",
                returncode=1,
            )
