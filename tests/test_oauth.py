"""IonOauth2: the login flow against a faked Ion."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from social_django.models import UserSocialAuth

pytestmark = pytest.mark.django_db


def test_a_student_logs_in_and_gets_a_user_named_after_their_ion_username(ion_login):
    response = ion_login.login()

    assert response.status_code == 302
    assert response["Location"] == "/"
    user = get_user_model().objects.get()
    assert (user.username, user.email, user.first_name, user.last_name) == (
        "2027jdoe", "2027jdoe@tjhsst.edu", "John", "Doe",
    )
    social = UserSocialAuth.objects.get()
    assert (social.provider, social.uid) == ("ion", "1")
