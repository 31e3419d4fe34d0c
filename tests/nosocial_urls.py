"""A URLconf without social-auth's URLs, for ion_doctor's "callback not mounted" finding."""

from __future__ import annotations

urlpatterns: list[object] = []
