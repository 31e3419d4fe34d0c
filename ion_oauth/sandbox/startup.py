"""What the sandbox does once Django is set up and before it serves: migrate, seed, and
print the settings a site needs to use it."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from ion_oauth.sandbox import api_data, seed
from ion_oauth.sandbox.control import HEADER, ensure_token
from ion_oauth.sandbox.models import Person


def setup_database(args: argparse.Namespace, people: Any) -> list[seed.ClientSpec]:
    """Migrate, add the demo people, ``people`` (from ``--people``) and the two clients.

    Raises ValueError for a malformed people list, before anything is stored.
    """
    if not isinstance(people, list):
        raise ValueError("--people: the file must hold a JSON list of people")
    migrate()
    seed.ensure_demo_people()
    seed.seed_people(people)
    clients = [
        seed.ClientSpec(
            args.client_id,
            args.client_secret,
            "Ion sandbox client",
            [*seed.DEFAULT_REDIRECT_URIS, *args.redirect_uri],
        ),
        seed.ClientSpec(
            args.oidc_client_id,
            args.oidc_client_secret,
            "Ion sandbox OpenID Connect client",
            [*seed.DEFAULT_OIDC_REDIRECT_URIS, *args.redirect_uri],
            oidc=True,
        ),
    ]
    # The URIs registered on earlier starts stay, so report what is stored.
    return [
        dataclasses.replace(spec, redirect_uris=seed.ensure_client(spec).redirect_uris.split())
        for spec in clients
    ]


def load_api_data(data: Any) -> None:
    """Serve ``data`` (a ``--data`` document) or, when None, the demo data dated from today.

    Raises ValueError for a malformed document; the demo data is then not replaced.
    """
    if data is None:
        api_data.install(api_data.demo_data)
    else:
        api_data.IonData.from_json(data)  # checked now, before the sandbox serves anything
        api_data.install(lambda: api_data.IonData.from_json(data))


def template_path() -> Path:
    """Where a freshly migrated database is cached, keyed by every migration on disk."""
    migrations = sorted(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    key = hashlib.sha256(repr((django.__version__, migrations)).encode()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "ion-sandbox" / f"migrated-{key}.sqlite3"


def migrate() -> None:
    """Bring the database up to date.

    Running the migrations takes seconds and test suites start many sandboxes with new
    data dirs, so a new database starts as a copy of a cached, already migrated one (it
    keeps its migration history, so later upgrades migrate as usual).
    """
    database = Path(settings.DATABASES["default"]["NAME"])
    template = template_path()
    fresh = not database.exists()
    if fresh and template.exists():
        shutil.copyfile(template, database)
    call_command("migrate", verbosity=0, interactive=False)
    if fresh and not template.exists():
        connection.close()
        # Best effort (a read-only home only costs speed); written under a temporary
        # name and renamed, so a sandbox starting at the same time never copies half a file.
        with contextlib.suppress(OSError):
            template.parent.mkdir(parents=True, exist_ok=True)
            partial = template.with_name(f"{template.name}.{os.getpid()}.tmp")
            shutil.copyfile(database, partial)
            partial.replace(template)


def settings_block(url: str, client: seed.ClientSpec) -> str:
    """The three lines of settings.py for the IonOauth2 backend, exactly as the README's
    quickstart shows them (a test holds the two together)."""
    return (
        f'SOCIAL_AUTH_ION_BASE_URL = "{url}"\n'
        f'SOCIAL_AUTH_ION_KEY = "{client.client_id}"\n'
        f'SOCIAL_AUTH_ION_SECRET = "{client.client_secret}"'
    )


def banner(url: str, data_dir: Path, clients: list[seed.ClientSpec]) -> str:
    """The text printed at start: settings to paste, demo people, the URL."""
    oauth2, oidc = clients
    people = "\n".join(f"    {person}" for person in Person.objects.order_by("pk"))
    return f"""\
Ion sandbox (data in {data_dir})

Paste into settings.py for the IonOauth2 backend ("Log in with Ion"):

{settings_block(url, oauth2)}

  redirect URIs: {" ".join(oauth2.redirect_uris)}

For the OpenID Connect backend (issuer {url}/oauth), with the same SOCIAL_AUTH_ION_BASE_URL:

SOCIAL_AUTH_ION_OIDC_KEY = "{oidc.client_id}"
SOCIAL_AUTH_ION_OIDC_SECRET = "{oidc.client_secret}"

  redirect URIs: {" ".join(oidc.redirect_uris)}

Demo people (pick one at the login page, no password):
{people}

Control endpoints (/sandbox/...) answer loopback requests with the header
    {HEADER}: {ensure_token()}

Listening on {url} (Ctrl+C to stop)"""
