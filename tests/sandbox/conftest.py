"""A real Ion sandbox for these tests, and the package's scripted browser to log in through it."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from ion_oauth import testing
from ion_oauth.testing import Button, IonBrowser, IonSandbox, forms_of

# The fixtures under test, registered here as ``pytest_plugins = ["ion_oauth.testing"]``
# would register them in a root conftest.
ion_sandbox = testing.ion_sandbox
ion_sandbox_redirect_uris = testing.ion_sandbox_redirect_uris

REDIRECT = "http://127.0.0.1:8000/complete/ion/"
OIDC_REDIRECT = "http://127.0.0.1:8000/complete/ion-oidc/"


@pytest.fixture
def pkce() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class SandboxLogin:
    """A person at a browser, at the sandbox only: its authorize URL, person picker and
    consent page, one step at a time (redirects are not followed unless said)."""

    def __init__(self, sandbox: IonSandbox) -> None:
        self.sandbox = sandbox
        self.browser = IonBrowser()
        self.session = self.browser.session

    def get(self, url: str) -> requests.Response:
        return self.browser.get(url, follow=False)

    def authorize_url(self, **params: str) -> str:
        query = {
            "response_type": "code",
            "client_id": self.sandbox.client_id,
            "redirect_uri": REDIRECT,
            "scope": "read",
            "state": "the-state",
            **params,
        }
        return f"{self.sandbox.url}/oauth/authorize/?{urlencode(query)}"

    def pick_person(self, login_page: requests.Response, person: int | str) -> requests.Response:
        """Submit the person picker with any ``person`` value; returns its answer."""
        (form,) = forms_of(login_page.text)
        return self.browser.submit(login_page, form, Button("person", str(person)), follow=False)

    def consent_page(self, person: int = 1, **params: str) -> requests.Response:
        """Log in as ``person`` if needed and return the consent page (or what is instead)."""
        page = self.browser.get(self.authorize_url(**params))
        if urlsplit(page.url).path == "/login/":
            page = self.browser.pick(page, person)
        return page

    def authorize(self, person: int = 1, *, allow: bool = True, **params: str) -> dict[str, str]:
        """The whole front channel; returns the query of the redirect to the client."""
        url = self.browser.authorize(self.authorize_url(**params), username=person, approve=allow)
        return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}

    def code(self, person: int = 1, **params: str) -> str:
        return self.authorize(person, **params)["code"]


@pytest.fixture
def browser(ion_sandbox: IonSandbox) -> Iterator[SandboxLogin]:
    login = SandboxLogin(ion_sandbox)
    yield login
    login.browser.close()


class TokenClient:
    """The site's server side: token requests with the client's credentials."""

    def __init__(self, sandbox: IonSandbox, *, oidc: bool = False) -> None:
        self.sandbox = sandbox
        self.client_id = sandbox.oidc_client_id if oidc else sandbox.client_id
        self.client_secret = sandbox.oidc_client_secret if oidc else sandbox.client_secret
        self.redirect_uri = OIDC_REDIRECT if oidc else REDIRECT

    def token(self, path: str = "/oauth/token/", **data: str) -> requests.Response:
        body = {"client_id": self.client_id, "client_secret": self.client_secret, **data}
        return requests.post(self.sandbox.url + path, data=body, timeout=10)

    def exchange(self, code: str, **data: str) -> requests.Response:
        return self.token(
            grant_type="authorization_code", code=code, redirect_uri=self.redirect_uri, **data
        )

    def refresh(self, refresh_token: str) -> requests.Response:
        return self.token(grant_type="refresh_token", refresh_token=refresh_token)

    def profile(self, access_token: str, path: str = "/api/profile") -> requests.Response:
        headers = {"Authorization": f"Bearer {access_token}"}
        return requests.get(self.sandbox.url + path, headers=headers, timeout=10)


@pytest.fixture
def site(ion_sandbox: IonSandbox) -> TokenClient:
    return TokenClient(ion_sandbox)


@pytest.fixture
def oidc_site(ion_sandbox: IonSandbox) -> TokenClient:
    return TokenClient(ion_sandbox, oidc=True)


@pytest.fixture
def tokens(browser: SandboxLogin, site: TokenClient) -> dict[str, Any]:
    """A fresh token response for the student, through the whole code flow."""
    response = site.exchange(browser.code())
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.fixture
def sign_in() -> Callable[..., dict[str, Any]]:
    """Log ``person`` in at any sandbox (not only ``ion_sandbox``); returns the token response."""

    def sign_in(sandbox: IonSandbox, person: int = 1, scope: str = "read") -> dict[str, Any]:
        code = SandboxLogin(sandbox).code(person, scope=scope)
        response = TokenClient(sandbox).exchange(code)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    return sign_in
