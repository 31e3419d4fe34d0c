"""testproject's settings, pointed at a running Ion sandbox by environment variables.

Used by the server processes the integration tests start (``runserver``, the refresh
workers); ``ION_TEST_PG_*`` (read by testproject.settings) picks the PostgreSQL database.
"""

from __future__ import annotations

import os

from testproject.settings import *  # noqa: F403
from testproject.settings import MIDDLEWARE, SOCIAL_AUTH_ION_BASE_URL

ROOT_URLCONF = "ion_api_site.urls"
MIDDLEWARE = [*MIDDLEWARE, "ion_oauth.middleware.IonLoginRequiredMiddleware"]
SOCIAL_AUTH_ION_BASE_URL = os.environ.get("ION_TEST_ION_URL", SOCIAL_AUTH_ION_BASE_URL)
SOCIAL_AUTH_ION_KEY = os.environ.get("ION_TEST_ION_KEY", "ion-sandbox-client")
SOCIAL_AUTH_ION_SECRET = os.environ.get("ION_TEST_ION_SECRET", "ion-sandbox-secret")
# Database-backed sessions (Django's default, spelled out): a login begun on one server
# process is finished on another only if both see the same session store.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# A test site talking to the local sandbox with DEBUG off, on purpose: what these checks
# refuse in production is what this site is for.
SILENCED_SYSTEM_CHECKS = ["ion_oauth.E020", "ion_oauth.E021"]
