"""``python -m ion_oauth.sandbox``: start the Ion sandbox (see the package docstring)."""

from __future__ import annotations

import argparse
import datetime
import errno
import json
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from ion_oauth.sandbox.control import ensure_token
from ion_oauth.sandbox.keys import ensure_private_key
from ion_oauth.sandbox.network import is_loopback_host, remote_warning

SETTINGS_MODULE = "ion_oauth.sandbox.settings"
MISSING_EXTRA = (
    "ion-sandbox: django-oauth-toolkit is not installed; "
    "install the sandbox with: pip install 'ion-oauth[sandbox]'"
)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line, with the ``ION_SANDBOX_*`` environment variables as defaults."""
    env = os.environ
    parser = argparse.ArgumentParser(
        prog="python -m ion_oauth.sandbox",
        description="A local Ion OAuth2/OpenID Connect provider for development and tests.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (loopback unless --allow-remote)"
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host beyond loopback: anyone who reaches it can log in as anyone",
    )
    parser.add_argument("--port", type=int, default=8080, help="port (0: any free port)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(env.get("ION_SANDBOX_DATA_DIR", ".ion-sandbox")),
        help="where the SQLite database and RSA key live (env ION_SANDBOX_DATA_DIR)",
    )
    parser.add_argument("--reset", action="store_true", help="delete the data dir first")
    parser.add_argument(
        "--client-id",
        default=env.get("ION_SANDBOX_CLIENT_ID", "ion-sandbox-client"),
        help="OAuth2 client id (env ION_SANDBOX_CLIENT_ID)",
    )
    parser.add_argument(
        "--client-secret",
        default=env.get("ION_SANDBOX_CLIENT_SECRET", "ion-sandbox-secret"),
        help="OAuth2 client secret (env ION_SANDBOX_CLIENT_SECRET)",
    )
    parser.add_argument(
        "--oidc-client-id",
        default=env.get("ION_SANDBOX_OIDC_CLIENT_ID", "ion-sandbox-oidc"),
        help="OpenID Connect client id (env ION_SANDBOX_OIDC_CLIENT_ID)",
    )
    parser.add_argument(
        "--oidc-client-secret",
        default=env.get("ION_SANDBOX_OIDC_CLIENT_SECRET", "ion-sandbox-oidc-secret"),
        help="OpenID Connect client secret (env ION_SANDBOX_OIDC_CLIENT_SECRET)",
    )
    parser.add_argument(
        "--redirect-uri",
        action="append",
        default=[],
        metavar="URI",
        help="another redirect URI for both clients (repeatable)",
    )
    parser.add_argument(
        "--people", type=Path, metavar="FILE.json", help="add or update people from a JSON list"
    )
    parser.add_argument(
        "--data",
        type=Path,
        metavar="FILE.json",
        help="serve this schedule, eighth period, announcements and bus data instead of the demo",
    )
    parser.add_argument(
        "--today",
        type=date_argument,
        default=env.get("ION_SANDBOX_TODAY") or None,
        metavar="YYYY-MM-DD",
        help="the sandbox's date, for the schedule and the demo data (env ION_SANDBOX_TODAY)",
    )
    return parser.parse_args(argv)


def date_argument(value: str) -> str:
    """A ``YYYY-MM-DD`` date, kept as text."""
    try:
        return datetime.date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {value!r}") from None


def prepare_data_dir(data_dir: Path, *, reset: bool) -> Path:
    """Make the data dir (emptied first with ``reset``) and its RSA key; return its path."""
    data_dir = data_dir.resolve()
    if reset and data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    ensure_private_key(data_dir)
    return data_dir


def cannot_listen(host: str, port: int, error: OSError) -> str:
    """What to tell a person whose sandbox could not listen, in the words demo.py uses."""
    if error.errno == errno.EADDRINUSE:
        return f"Port {port} is in use. Stop what uses it, or pick another with --port."
    return f"cannot listen on {host}:{port}: {error.strerror or error}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sandbox until SIGTERM/SIGINT; 2 without django-oauth-toolkit, with a bad
    ``--people`` or ``--data`` file, a ``--host`` beyond loopback and no ``--allow-remote``,
    or an address or port it cannot listen on."""
    args = parse_args(argv)
    if not is_loopback_host(args.host):
        if not args.allow_remote:
            print(
                f"ion-sandbox: refusing to listen on {args.host}, which is not loopback: the "
                "sandbox has no passwords. Pass --allow-remote if you mean it.",
                file=sys.stderr,
            )
            return 2
        print(remote_warning(args.host), file=sys.stderr, flush=True)
    try:
        import oauth2_provider  # noqa: F401 - only checking that the extra is installed
    except ImportError:
        print(MISSING_EXTRA, file=sys.stderr)
        return 2
    data_dir = prepare_data_dir(args.data_dir, reset=args.reset)
    # The sandbox is its own Django project, whatever the calling environment points at.
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
    os.environ["ION_SANDBOX_DATA_DIR"] = str(data_dir)
    os.environ["ION_SANDBOX_HOST"] = args.host
    if args.today:
        os.environ["ION_SANDBOX_TODAY"] = args.today
    ensure_token()

    import django

    django.setup()

    from ion_oauth.sandbox.startup import banner, load_api_data, setup_database

    try:
        people = json.loads(args.people.read_text()) if args.people else []
        data = json.loads(args.data.read_text()) if args.data else None
        clients = setup_database(args, people)
        load_api_data(data)
    except (OSError, ValueError) as error:
        print(f"ion-sandbox: {error}", file=sys.stderr)
        return 2

    from ion_oauth.sandbox.server import make_server, serve

    try:
        server = make_server(args.host, args.port)
    except OSError as error:
        print(f"ion-sandbox: {cannot_listen(args.host, args.port, error)}", file=sys.stderr)
        return 2
    serve(server, lambda url: print(banner(url, data_dir, clients), flush=True))
    print("ion-sandbox: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
