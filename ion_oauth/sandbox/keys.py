"""The sandbox's RSA signing key for ID tokens, made once and kept in the data directory."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KEY_FILE = "oidc-rsa-key.pem"


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
