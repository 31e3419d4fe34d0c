"""The example project's settings, plus what the benchmark needs to look inside it.

``run.py`` starts ``example_project/manage.py runserver`` with this module (``bench/`` and
``example_project/`` on ``PYTHONPATH``). Everything of the example is kept, both backends
included; added is ``/bench/site-stats``, which reports the requests and new TCP
connections this process made to Ion (counted in urllib3, see :mod:`bench_site_probe`).
"""

from __future__ import annotations

import bench_site_probe as site_probe
from example.settings import *  # noqa: F403

site_probe.install()

ROOT_URLCONF = "bench_site_urls"
# The benchmark's thirty-two users must not be slowed by a line on stderr per request.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "loggers": {"django.server": {"handlers": [], "level": "ERROR", "propagate": False}},
}
