"""ion_oauth.decorators: role and class checks for views; anonymous people go to log in, the
others without the role get a 403 page that names it."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.views.generic import View
from social_django.models import UserSocialAuth

from ion_oauth.decorators import (
    IonRoleRequiredMixin,
    ion_class_required,
    ion_class_year,
    ion_role_required,
    ion_roles,
)

pytestmark = [pytest.mark.urls("testproject.pages_urls"), pytest.mark.django_db]

User = get_user_model()
STUDENT = {
    "is_student": True,
    "is_teacher": False,
    "is_eighth_admin": False,
    "graduation_year": 2027,
}
TEACHER = {
    "is_student": False,
    "is_teacher": True,
    "is_eighth_admin": False,
    "graduation_year": None,
}
EIGHTH_ADMIN = {**TEACHER, "is_eighth_admin": True}


def ion_user(extra_data, username="someone", provider="ion"):
    user = User.objects.create_user(username)
    UserSocialAuth.objects.create(user=user, provider=provider, uid=username, extra_data=extra_data)
    return user


def test_roles_and_class_come_from_the_ion_login():
    student = ion_user(STUDENT, "2027jdoe")
    admin = ion_user(EIGHTH_ADMIN, "eadmin")

    assert (ion_roles(student), ion_class_year(student)) == (frozenset({"student"}), 2027)
    assert (ion_roles(admin), ion_class_year(admin)) == (
        frozenset({"teacher", "eighth_admin"}),
        None,
    )


def test_a_user_without_an_ion_login_has_no_roles():
    local = User.objects.create_user("local")
    oidc = ion_user({"groups": ["admin_all"]}, "oidc", provider="ion-oidc")

    assert (ion_roles(local), ion_class_year(local)) == (frozenset(), None)
    assert (ion_roles(oidc), ion_class_year(oidc)) == (frozenset(), None)


def test_an_anonymous_person_has_no_roles():
    from django.contrib.auth.models import AnonymousUser

    assert (ion_roles(AnonymousUser()), ion_class_year(AnonymousUser())) == (frozenset(), None)


def test_a_role_that_is_not_exactly_true_does_not_count():
    user = ion_user({"is_teacher": "yes", "graduation_year": True})

    assert (ion_roles(user), ion_class_year(user)) == (frozenset(), None)


@pytest.mark.parametrize("path", ["/staff/", "/seniors/", "/students/"])
def test_an_anonymous_person_goes_to_log_in_and_back(client, path):
    response = client.get(path, {"a": "1"})

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}%3Fa%3D1"


@pytest.mark.parametrize(
    ("path", "extra_data", "page"),
    [
        ("/staff/", TEACHER, "staff room"),
        ("/staff/", EIGHTH_ADMIN, "staff room"),
        ("/seniors/", STUDENT, "senior lounge"),
        ("/students/", STUDENT, "student center"),
    ],
)
def test_a_person_with_the_role_or_class_gets_in(client, path, extra_data, page):
    client.force_login(ion_user(extra_data))

    response = client.get(path)

    assert (response.status_code, response.content.decode()) == (200, page)


@pytest.mark.parametrize(
    ("path", "extra_data", "needed"),
    [
        ("/staff/", STUDENT, "This page is for Ion teachers or eighth period admins."),
        ("/seniors/", {**STUDENT, "graduation_year": 2028}, "This page is for the class of 2027."),
        ("/seniors/", TEACHER, "This page is for the class of 2027."),
        ("/students/", TEACHER, "This page is for Ion students."),
        ("/students/", {}, "This page is for Ion students."),
    ],
)
def test_a_person_without_it_gets_a_403_page_that_names_it(client, path, extra_data, needed):
    client.force_login(ion_user(extra_data))

    response = client.get(path)

    assert response.status_code == 403
    html = response.content.decode()
    assert f'<p id="ion-needed">{needed}</p>' in html
    assert 'action="/logout/"' in html


@pytest.mark.urls("testproject.decorated_only_urls")
def test_the_403_page_works_without_ion_oauth_urls(client):
    client.force_login(ion_user(STUDENT))

    response = client.get("/staff/")

    assert response.status_code == 403
    assert "logout" not in response.content.decode()


@pytest.mark.parametrize("roles", [(), ("admin",), ("student", "Teacher")])
def test_an_unknown_role_is_refused_when_the_view_is_defined(roles):
    with pytest.raises(ValueError, match="Ion's roles are student, teacher, eighth_admin"):
        ion_role_required(*roles)


@pytest.mark.parametrize("years", [(), ("2027",), (2027, True)])
def test_a_class_that_is_not_a_year_is_refused_when_the_view_is_defined(years):
    with pytest.raises(ValueError, match="Graduation years must be integers"):
        ion_class_required(*years)


def test_a_mixin_without_roles_or_classes_is_an_error(rf):
    class Nothing(IonRoleRequiredMixin, View):
        pass

    request = rf.get("/")
    request.user = User.objects.create_user("x")

    with pytest.raises(ValueError, match="Nothing sets neither ion_roles nor ion_classes"):
        Nothing.as_view()(request)


def test_the_mixin_checks_classes_too(rf):
    class Seniors(IonRoleRequiredMixin, View):
        ion_roles = ["student"]
        ion_classes = [2027]

        def get(self, request):
            from django.http import HttpResponse

            return HttpResponse("ok")

    request = rf.get("/")
    request.user = ion_user({**STUDENT, "graduation_year": 2026})

    assert Seniors.as_view()(request).status_code == 403
