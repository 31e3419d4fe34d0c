"""URLs of the example site: its own home and live-API pages, and ion-oauth's pages
(/login/, /login-error/, /logout/) with social-auth's /login/ion/ and /complete/ion/."""

from __future__ import annotations

from django.urls import include, path

from example import views

urlpatterns = [
    path("", views.home, name="home"),
    path("ion/live/", views.ion_live, name="ion-live"),
    path("eighth/", views.eighth, name="eighth"),
    path("", include("ion_oauth.urls")),
]
