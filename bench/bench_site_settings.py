"""The example project's settings, plus what the benchmark needs to look inside it.

``run.py`` starts ``example_project/manage.py runserver`` with this module (``bench/`` and
``example_project/`` on ``PYTHONPATH``). Everything of the example is kept; added are the
OpenID Connect backend (the sandbox's OIDC client, for requests per OIDC login) and
``/bench/site-stats``, which reports the requests and new TCP connections this process
made to Ion (counted in urllib3, see :mod:`bench_site_probe`).
"""

from __future__ import annotations

import os

import bench_site_probe as site_probe
from example.settings import *  # noqa: F403
from example.settings import AUTHENTICATION_BACKENDS

site_probe.install()

ROOT_URLCONF = "bench_site_urls"
AUTHENTICATION_BACKENDS = ["ion_oauth.oidc.IonOpenIdConnect", *AUTHENTICATION_BACKENDS]
SOCIAL_AUTH_ION_OIDC_KEY = os.environ.get("ION_OIDC_CLIENT_ID", "ion-sandbox-oidc")
SOCIAL_AUTH_ION_OIDC_SECRET = os.environ.get("ION_OIDC_CLIENT_SECRET", "ion-sandbox-oidc-secret")
# The benchmark's thirty-two users must not be slowed by a line on stderr per request.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "loggers": {"django.server": {"handlers": [], "level": "ERROR", "propagate": False}},
}
