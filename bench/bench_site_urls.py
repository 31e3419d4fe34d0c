"""The example project's URLs plus ``/bench/site-stats`` (see :mod:`bench_site_probe`)."""

from __future__ import annotations

import bench_site_probe as site_probe
from django.urls import path
from example.urls import urlpatterns as example_urlpatterns

urlpatterns = [
    path("bench/site-stats", site_probe.stats_view),
    *example_urlpatterns,
]
