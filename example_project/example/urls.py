"""URLs of the example site; social-auth's at the root make the redirect URI /complete/ion/."""

from __future__ import annotations

from django.contrib.auth.views import LogoutView
from django.urls import include, path

from example import views

urlpatterns = [
    path("", views.home, name="home"),
    path("ion/live/", views.ion_live, name="ion-live"),
    path("eighth/", views.eighth, name="eighth"),
    path("login-error/", views.login_error, name="login-error"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("", include("social_django.urls", namespace="social")),
]
