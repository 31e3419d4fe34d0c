"""``path("", include("ion_oauth.urls"))``: the package's pages and social-auth's login URLs.

Names: ``ion_oauth:login`` (``/login/``), ``ion_oauth:login-error`` (``/login-error/``),
``ion_oauth:logout`` (``/logout/``, POST), and social-auth's ``social:begin``
(``/login/ion/``) and ``social:complete`` (``/complete/ion/``, the redirect URI).

The two namespaces sit side by side rather than one inside the other, so that
``{% url 'social:begin' 'ion' %}`` works as in every social-auth site: this module has no
``app_name`` of its own (that would put ``social`` inside ``ion_oauth``).
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from ion_oauth import views

pages = [
    path("login/", views.login, name="login"),
    path("login-error/", views.login_error, name="login-error"),
    path("logout/", views.logout, name="logout"),
]

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include((pages, "ion_oauth"))),
    path("", include("social_django.urls", namespace="social")),
]
