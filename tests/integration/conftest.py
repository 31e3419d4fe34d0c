"""The real thing over loopback HTTP: the Ion sandbox, the test site on a live server, and
a ``requests`` session that clicks through both the way a browser would. No mocks."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from ion_oauth.testing import IonBrowser, IonSandbox


class IonLogin:
    """Logs in to the test site with Ion, step by step, over real HTTP."""

    def __init__(self, site: str, ion: IonSandbox) -> None:
        self.site = site
        self.ion = ion
        self.browser = IonBrowser()

    def start(self, next_url: str | None = None, *, site: str | None = None) -> requests.Response:
        """Click "Log in with Ion" on the site's login page; returns what Ion shows."""
        query = f"?next={next_url}" if next_url else ""
        page = self.browser.get(f"{site or self.site}/login/{query}")
        return self.browser.click(page, "Log in with Ion")

    def login(self, person_id: int, next_url: str | None = None) -> requests.Response:
        """A whole login: pick the person on Ion, Authorize, land back on the site."""
        consent = self.browser.pick(self.start(next_url), person_id)
        return self.browser.click(consent, "Authorize")

    @staticmethod
    def error_messages(page: requests.Response) -> list[str]:
        """The messages a login-error page shows (``<p class="error">``), unescaped."""
        found = re.findall(r'<p class="error">(.*?)</p>', page.text, flags=re.DOTALL)
        return [html.unescape(" ".join(text.split())) for text in found]


@pytest.fixture(scope="session")
def site_port(live_server: Any) -> int:
    """The live server's port; tests reach it as 127.0.0.1, the host registered at Ion."""
    return int(urlsplit(live_server.url).port)


@pytest.fixture(scope="session")
def ion(site_port: int) -> Iterator[IonSandbox]:
    """One Ion sandbox for the whole run, with the live server's callback registered.

    Only the 127.0.0.1 form is registered, so ``http://localhost:<port>/complete/ion/``
    stays unregistered (Ion ignores the port of 127.0.0.1 redirect URIs, RFC 8252, but
    compares it for ``localhost``); and the test client's ``http://testserver`` callback.
    """
    uris = [f"http://127.0.0.1:{site_port}/complete/ion/", "http://testserver/complete/ion/"]
    with IonSandbox(redirect_uris=uris) as sandbox:
        yield sandbox


@pytest.fixture
def site(site_port: int, ion: IonSandbox, settings: Any) -> str:
    """The test site on a live server, logging in with the sandbox's default client."""
    settings.SOCIAL_AUTH_ION_BASE_URL = ion.url
    settings.SOCIAL_AUTH_ION_KEY = ion.client_id
    settings.SOCIAL_AUTH_ION_SECRET = ion.client_secret
    return f"http://127.0.0.1:{site_port}"


@pytest.fixture
def ion_login(site: str, ion: IonSandbox) -> Iterator[IonLogin]:
    login = IonLogin(site, ion)
    yield login
    # A kept-alive connection would outlive the test and the live server's shared
    # database connection with it.
    login.browser.session.close()
