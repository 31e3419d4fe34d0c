"""The OpenID Connect login over real HTTP: the Ion sandbox's OIDC client and the test site
on a live server, clicked through with ``requests`` the way a browser would. No mocks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from ion_oauth import discovery, transport
from ion_oauth.testing import Form, IonBrowser, IonSandbox, forms_of


class OidcLogin:
    """Logs in to the test site with Ion over OpenID Connect, step by step."""

    def __init__(self, site: str) -> None:
        self.site = site
        self.browser = IonBrowser()

    def post(self, path: str) -> requests.Response:
        """POST to one of the site's URLs with a CSRF token, as a form on the site would."""
        page = self.browser.get(f"{self.site}/login/")
        csrf = [(k, v) for k, v in forms_of(page.text)[0].fields if k == "csrfmiddlewaretoken"]
        return self.browser.submit(page, Form(action=path, method="post", fields=csrf))

    def start(self) -> requests.Response:
        """Begin a login with the ``ion-oidc`` backend; returns what Ion shows."""
        return self.post("/login/ion-oidc/")

    def login(self, person_id: int) -> requests.Response:
        """A whole login: pick the person on Ion, Authorize, land back on the site."""
        consent = self.browser.pick(self.start(), person_id)
        return self.browser.click(consent, "Authorize")


@pytest.fixture(scope="session")
def site_port(live_server: Any) -> int:
    """The live server's port; reached as 127.0.0.1, the host registered at Ion."""
    return int(urlsplit(live_server.url).port or 0)


@pytest.fixture(scope="session")
def oidc_ion(site_port: int) -> Iterator[IonSandbox]:
    """One Ion sandbox for these tests, with the live server's OIDC callback registered."""
    callback = f"http://127.0.0.1:{site_port}/complete/ion-oidc/"
    with IonSandbox(redirect_uris=[callback]) as sandbox:
        yield sandbox


@pytest.fixture
def oidc_site(site_port: int, oidc_ion: IonSandbox, settings: Any) -> Iterator[str]:
    """The test site logging in with the sandbox's OIDC client; nothing cached from before."""
    settings.AUTHENTICATION_BACKENDS = [
        "ion_oauth.oauth.IonOauth2",
        "ion_oauth.oidc.IonOpenIdConnect",
        "django.contrib.auth.backends.ModelBackend",
    ]
    settings.ROOT_URLCONF = "oidc.urls"
    settings.SOCIAL_AUTH_ION_BASE_URL = oidc_ion.url
    settings.SOCIAL_AUTH_ION_OIDC_KEY = oidc_ion.oidc_client_id
    settings.SOCIAL_AUTH_ION_OIDC_SECRET = oidc_ion.oidc_client_secret
    discovery.clear_cache()
    oidc_ion.reset_stats()
    yield f"http://127.0.0.1:{site_port}"
    discovery.clear_cache()


@pytest.fixture
def oidc_login(oidc_site: str) -> Iterator[OidcLogin]:
    login = OidcLogin(oidc_site)
    yield login
    # An open keep-alive connection would keep a live-server thread using the
    # database after the test's teardown closed it.
    login.browser.session.close()


@pytest.fixture
def requests_to_ion(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The URL of every request the site sends to Ion, through the one HTTP path."""
    sent: list[str] = []
    real_send = transport.send

    def counting_send(method: str, url: str, **kwargs: Any) -> Any:
        sent.append(url)
        return real_send(method, url, **kwargs)

    monkeypatch.setattr(transport, "send", counting_send)
    return sent
