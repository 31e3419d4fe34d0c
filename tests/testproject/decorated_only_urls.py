"""A site using the role decorators without ``include("ion_oauth.urls")``."""

from __future__ import annotations

from django.urls import path

from testproject.pages_urls import staff_room

urlpatterns = [path("staff/", staff_room)]
