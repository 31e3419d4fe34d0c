"""A URLconf that forgot social-auth's URLs (check ion_oauth.E014)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
