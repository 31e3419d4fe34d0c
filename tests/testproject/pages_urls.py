"""A site wired as the README's quickstart says: ``include("ion_oauth.urls")``, the admin,
and views limited to some Ion users."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.generic import View

from ion_oauth.decorators import IonRoleRequiredMixin, ion_class_required, ion_role_required


@ion_role_required("teacher", "eighth_admin")
def staff_room(request: HttpRequest) -> HttpResponse:
    return HttpResponse("staff room")


@ion_class_required(2027)
def senior_lounge(request: HttpRequest) -> HttpResponse:
    return HttpResponse("senior lounge")


class StudentCenter(IonRoleRequiredMixin, View):
    ion_roles = ["student"]

    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("student center")


urlpatterns = [
    path("admin/", admin.site.urls),
    path("staff/", staff_room),
    path("seniors/", senior_lounge),
    path("students/", StudentCenter.as_view()),
    path("", include("ion_oauth.urls")),
]
