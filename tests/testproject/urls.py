from __future__ import annotations

from django.urls import include, path

from testproject import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_page, name="login"),
    path("login-error/", views.login_error, name="login-error"),
    path("", include("social_django.urls", namespace="social")),
]
