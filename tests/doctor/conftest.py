"""``ion_doctor`` against the real sandbox on loopback: a good setup, then each broken one."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from doctor_helpers import SITE

from ion_oauth.testing import IonSandbox


@pytest.fixture(scope="session")
def ion() -> Iterator[IonSandbox]:
    with IonSandbox(redirect_uris=[f"{SITE}/complete/ion/"]) as sandbox:
        yield sandbox


@pytest.fixture
def good(settings: Any, ion: IonSandbox) -> Any:
    """The test site set up right for the sandbox, both backends on."""
    settings.AUTHENTICATION_BACKENDS = [
        "ion_oauth.oauth.IonOauth2",
        "ion_oauth.oidc.IonOpenIdConnect",
        "django.contrib.auth.backends.ModelBackend",
    ]
    settings.SOCIAL_AUTH_ION_BASE_URL = ion.url
    settings.SOCIAL_AUTH_ION_KEY = ion.client_id
    settings.SOCIAL_AUTH_ION_SECRET = ion.client_secret
    settings.SOCIAL_AUTH_ION_OIDC_KEY = ion.oidc_client_id
    settings.SOCIAL_AUTH_ION_OIDC_SECRET = ion.oidc_client_secret
    settings.SOCIAL_AUTH_ION_TIMEOUT = 5.0
    return settings


@pytest.fixture
def not_ion(tmp_path: Any) -> Iterator[str]:
    """A web server on loopback that is not Ion (it serves an empty directory)."""
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
