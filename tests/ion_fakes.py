"""Helpers shared by the unit tests: Ion's recorded JSON, and a login driven through the
test site against Ion faked with ``responses``. (A module of its own, not conftest, so that
``from ion_fakes import ...`` is unambiguous whatever else is on ``sys.path``.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import responses

FIXTURES = Path(__file__).parent / "fixtures" / "ion"
ION = "https://ion.example.test"


def load_fixture(name: str) -> Any:
    """One of the JSON bodies recorded from a real Ion (tests/fixtures/ion/)."""
    return json.loads((FIXTURES / name).read_text())


def student_profile() -> dict[str, Any]:
    """The recorded student profile, its picture on the test site's Ion (as Ion's is on Ion)."""
    profile: dict[str, Any] = load_fixture("profile_student.json")
    profile["picture"] = f"{ION}/api/profile/1/picture"
    return profile


class IonLogin:
    """Drives a login through the test site: POST /login/ion/, then Ion's callback."""

    def __init__(self, client: Any, fake_ion: responses.RequestsMock) -> None:
        self.client = client
        self.fake_ion = fake_ion

    def begin(self, next_url: str | None = None) -> dict[str, str]:
        """Start a login; return the query parameters of the redirect to Ion."""
        data = {"next": next_url} if next_url else {}
        response = self.client.post("/login/ion/", data)
        assert response.status_code == 302, response
        location = urlsplit(response["Location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == f"{ION}/oauth/authorize/"
        return dict(parse_qsl(location.query))

    def mock_ion(
        self,
        profile: dict[str, Any] | None = None,
        token: dict[str, Any] | None = None,
        *,
        token_status: int = 200,
        profile_status: int = 200,
    ) -> None:
        """Answer the token exchange and the profile request as Ion would."""
        self.fake_ion.add(
            responses.POST,
            f"{ION}/oauth/token/",
            json=token or load_fixture("token_response.json"),
            status=token_status,
        )
        self.fake_ion.add(
            responses.GET,
            f"{ION}/api/profile",
            json=profile or student_profile(),
            status=profile_status,
        )

    def callback(self, **params: str) -> Any:
        return self.client.get("/complete/ion/", params)

    def login(self, profile: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """A whole successful login; returns the callback's response."""
        state = self.begin()["state"]
        self.mock_ion(profile, **kwargs)
        return self.callback(code="the-code", state=state)


def messages_of(response: Any) -> list[str]:
    """The Django messages the request behind ``response`` left for the next page."""
    from django.contrib.messages import get_messages

    return [str(m) for m in get_messages(response.wsgi_request)]


def assert_login_failed(response: Any, message: str) -> None:
    """The request ended on the login-error page with ``message`` and created nobody."""
    from django.contrib.auth import get_user_model
    from social_django.models import UserSocialAuth

    assert response.status_code == 302
    assert response["Location"] == "/login-error/"
    assert messages_of(response) == [message]
    assert get_user_model().objects.count() == 0
    assert UserSocialAuth.objects.count() == 0
