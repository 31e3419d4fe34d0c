"""The test site's URLs plus the Ion logout view, for the OpenID Connect tests."""

from __future__ import annotations

from django.urls import path
from testproject.urls import urlpatterns as site_urlpatterns

from ion_oauth.views import logout

urlpatterns = [
    path("logout/ion/", logout, name="ion-logout"),
    *site_urlpatterns,
]
