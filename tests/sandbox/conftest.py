"""A real Ion sandbox for these tests, and a requests-based "browser" to log in through it."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from ion_oauth import testing
from ion_oauth.testing import IonSandbox

# The fixtures under test, registered here as ``pytest_plugins = ["ion_oauth.testing"]``
# would register them in a root conftest.
ion_sandbox = testing.ion_sandbox
ion_sandbox_redirect_uris = testing.ion_sandbox_redirect_uris

REDIRECT = "http://127.0.0.1:8000/complete/ion/"
OIDC_REDIRECT = "http://127.0.0.1:8000/complete/ion-oidc/"


class FormParser(HTMLParser):
    """The fields of the first form with method=post, and each submit button."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.buttons: list[dict[str, str]] = []
        self.action: str | None = None
        self._in_form = False
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "form" and not self._done:
            self._in_form = True
            self.action = attr.get("action")
        elif self._in_form and tag == "input" and attr.get("name"):
            self.fields[attr["name"]] = attr.get("value", "")
        elif self._in_form and tag == "button":
            self.buttons.append(attr)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._in_form:
            self._in_form = False
            self._done = True


def parse_form(html: str) -> FormParser:
    parser = FormParser()
    parser.feed(html)
    return parser


@pytest.fixture
def pkce() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class Browser:
    """A person at a browser: logs in at the sandbox and answers its consent page."""

    def __init__(self, sandbox: IonSandbox) -> None:
        self.sandbox = sandbox
        self.session = requests.Session()

    def post(self, url: str, data: dict[str, str]) -> requests.Response:
        """A form submission from one of the sandbox's pages, Origin header and all."""
        headers = {"Origin": self.sandbox.url}
        return self.session.post(url, data=data, headers=headers, allow_redirects=False, timeout=10)

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

    def get(self, url: str) -> requests.Response:
        return self.session.get(url, allow_redirects=False, timeout=10)

    def pick_person(self, login_page: requests.Response, person: int | str) -> requests.Response:
        """Submit the person picker; returns the redirect back to ``next``."""
        form = parse_form(login_page.text)
        url = self.sandbox.url + (form.action or "/login/")
        return self.post(url, {**form.fields, "person": str(person)})

    def consent_page(self, person: int = 1, **params: str) -> requests.Response:
        """Log in as ``person`` if needed and return the consent page."""
        response = self.get(self.authorize_url(**params))
        if response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login/":
            login_page = self.get(self.sandbox.url + response.headers["Location"])
            back = self.pick_person(login_page, person)
            response = self.get(self.sandbox.url + back.headers["Location"])
        return response

    def answer(self, consent_page: requests.Response, *, allow: bool = True) -> requests.Response:
        form = parse_form(consent_page.text)
        data = dict(form.fields)
        if allow:
            data["allow"] = "Authorize"
        return self.post(consent_page.url, data)

    def authorize(self, person: int = 1, *, allow: bool = True, **params: str) -> dict[str, str]:
        """The whole front channel; returns the query of the redirect to the client."""
        page = self.consent_page(person, **params)
        assert page.status_code == 200, page.text
        redirect = self.answer(page, allow=allow)
        assert redirect.status_code == 302, redirect.text
        return {k: v[0] for k, v in parse_qs(urlsplit(redirect.headers["Location"]).query).items()}

    def code(self, person: int = 1, **params: str) -> str:
        return self.authorize(person, **params)["code"]


@pytest.fixture
def browser(ion_sandbox: IonSandbox) -> Iterator[Browser]:
    browser = Browser(ion_sandbox)
    yield browser
    browser.session.close()


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
def tokens(browser: Browser, site: TokenClient) -> dict[str, Any]:
    """A fresh token response for the student, through the whole code flow."""
    response = site.exchange(browser.code())
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.fixture
def sign_in() -> Callable[..., dict[str, Any]]:
    """Log ``person`` in at any sandbox (not only ``ion_sandbox``); returns the token response."""

    def sign_in(sandbox: IonSandbox, person: int = 1, scope: str = "read") -> dict[str, Any]:
        code = Browser(sandbox).code(person, scope=scope)
        response = TokenClient(sandbox).exchange(code)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    return sign_in
