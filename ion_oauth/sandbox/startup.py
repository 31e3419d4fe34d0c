"""What the sandbox does once Django is set up and before it serves: migrate, seed, and
print the settings a site needs to use it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.management import call_command

from ion_oauth.sandbox import seed
from ion_oauth.sandbox.models import Person


def setup_database(args: argparse.Namespace, people: Any) -> list[seed.ClientSpec]:
    """Migrate, add the demo people, ``people`` (from ``--people``) and the two clients.

    Raises ValueError for a malformed people list, before anything is stored.
    """
    if not isinstance(people, list):
        raise ValueError("--people: the file must hold a JSON list of people")
    call_command("migrate", verbosity=0, interactive=False)
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
    for client in clients:
        seed.ensure_client(client)
    return clients


def banner(url: str, data_dir: Path, clients: list[seed.ClientSpec]) -> str:
    """The text printed at start: settings to paste, demo people, the URL."""
    oauth2, oidc = clients
    people = "\n".join(
        f"    {p.pk}  {p.profile['ion_username']:<12} {p.profile['full_name']} "
        f"({p.profile['user_type']})"
        for p in Person.objects.order_by("pk")
    )
    return f"""\
Ion sandbox (data in {data_dir})

Settings for the IonOauth2 backend ("Log in with Ion"):
    SOCIAL_AUTH_ION_BASE_URL = "{url}"
    SOCIAL_AUTH_ION_KEY = "{oauth2.client_id}"
    SOCIAL_AUTH_ION_SECRET = "{oauth2.client_secret}"
  redirect URIs: {" ".join(oauth2.redirect_uris)}

Settings for the OpenID Connect backend (issuer {url}/oauth):
    SOCIAL_AUTH_ION_OIDC_KEY = "{oidc.client_id}"
    SOCIAL_AUTH_ION_OIDC_SECRET = "{oidc.client_secret}"
  redirect URIs: {" ".join(oidc.redirect_uris)}

Demo people (pick one at the login page, no password):
{people}

Listening on {url} (Ctrl+C to stop)"""
