"""For a site's own test suite: a real Ion sandbox and a scripted browser that logs in with it.

``with IonSandbox() as ion:`` starts ``python -m ion_oauth.sandbox`` on a free loopback port.
:func:`log_in` then logs a person in through the site's real ``/login/ion/``, the sandbox's
person picker and its consent page, and returns the logged-in ``requests.Session``;
:func:`log_in_client` does the same for Django's test ``Client``; :func:`fetch_tokens` gets a
person's tokens with no site in between. With pytest,
``pytest_plugins = ["ion_oauth.testing"]`` adds the ``ion_sandbox`` fixture (one sandbox for the
session) and ``ion_sandbox_redirect_uris`` (override it to register your site's callbacks).

Nothing here touches Django settings, so it can be imported before they exist.
"""

from __future__ import annotations

from ion_oauth.testing.browser import (
    Button,
    Form,
    IonBrowser,
    IonLoginError,
    fetch_tokens,
    forms_of,
    log_in,
    log_in_client,
)
from ion_oauth.testing.sandbox import IonSandbox, IonSandboxError

__all__ = [
    "Button",
    "Form",
    "IonBrowser",
    "IonLoginError",
    "IonSandbox",
    "IonSandboxError",
    "fetch_tokens",
    "forms_of",
    "log_in",
    "log_in_client",
]

# The fixtures live here too, so that ``pytest_plugins = ["ion_oauth.testing"]`` finds them.
try:
    from ion_oauth.testing.plugin import ion_sandbox as ion_sandbox
    from ion_oauth.testing.plugin import ion_sandbox_redirect_uris as ion_sandbox_redirect_uris
except ImportError:  # pragma: no cover - everything but the fixtures works without pytest
    pass
