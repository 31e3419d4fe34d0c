from __future__ import annotations

from django.urls import path
from testproject.urls import urlpatterns as testproject_urlpatterns

from ion_api_site import views

urlpatterns = [
    path("ion-profile/", views.ion_profile, name="ion-profile"),
    *testproject_urlpatterns,
]
