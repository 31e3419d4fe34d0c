"""The sandbox's keys, made once and kept in the data directory: the RSA key that signs ID
tokens and the ``SECRET_KEY`` that signs its sessions and CSRF tokens."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KEY_FILE = "oidc-rsa-key.pem"
SECRET_KEY_FILE = "secret-key"  # noqa: S105 - a file name


def ensure_private_key(data_dir: Path) -> Path:
    """Return the path of the PEM key in ``data_dir``, generating it on first use.

    The key outlives restarts so ID tokens and cached JWKS stay valid while the sandbox
    is stopped and started again; ``--reset`` removes it with the rest of the data.
    """
    path = data_dir / KEY_FILE
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            encoding=serialization.Encoding.PEM,
            format=serialization.PrivateFormat.PKCS8,
            encryption_algorithm=serialization.NoEncryption(),
        )
        path.write_bytes(pem)
        path.chmod(0o600)
    return path


def ensure_secret_key(data_dir: Path) -> str:
    """Return the data dir's Django ``SECRET_KEY``, generating it on first use.

    Random per data dir, so nobody can forge the sandbox's session cookies from the
    package's source; kept across restarts so a browser stays logged in to the sandbox.
    """
    path = data_dir / SECRET_KEY_FILE
    if not path.exists():
        # Created readable by the owner only, before anything is written to it.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(50))
    return path.read_text().strip()
