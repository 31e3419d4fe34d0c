"""Fixtures for the fault suite: one fake Ion per module, the site pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.conf import settings
from faults.fake_ion import TIMEOUT, FakeIon, running


@pytest.fixture(scope="module")
def ion_server() -> Iterator[FakeIon]:
    """One fake Ion for the whole module; :func:`ion` resets it for each test."""
    with running() as server:
        yield server


@pytest.fixture
def ion(ion_server: FakeIon, settings: Any) -> Iterator[FakeIon]:
    """The fake Ion, behaving like Ion, with the test site pointed at it."""
    ion_server.reset()
    settings.SOCIAL_AUTH_ION_BASE_URL = ion_server.url
    settings.SOCIAL_AUTH_ION_TIMEOUT = TIMEOUT
    yield ion_server
    ion_server.reset()


class LoopbackLogin:
    """Drives a login through the test site against the fake Ion (like ``IonLogin``)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.codes = 0

    def begin(self) -> str:
        """Start a login with POST /login/ion/; return the state sent to Ion."""
        response = self.client.post("/login/ion/")
        assert response.status_code == 302, response
        location = urlsplit(str(response["Location"]))
        assert f"{location.scheme}://{location.netloc}{location.path}" == (
            f"{settings.SOCIAL_AUTH_ION_BASE_URL}/oauth/authorize/"
        )
        return dict(parse_qsl(location.query))["state"]

    def callback(self, state: str) -> Any:
        """Come back from Ion with a fresh sign-in code, as Ion's redirect would."""
        self.codes += 1
        return self.client.get(
            "/complete/ion/", {"code": f"fake-ion-code-{self.codes}-Vb7Nq2", "state": state}
        )

    def attempt(self) -> Any:
        """A whole login from the site's button to the callback; returns the callback's response."""
        return self.callback(self.begin())


@pytest.fixture
def loopback_login(client: Any, ion: FakeIon) -> LoopbackLogin:
    """Logins through the test site, which talks to the fake Ion."""
    return LoopbackLogin(client)
