"""The OpenID Connect login over real HTTP: the Ion sandbox's OIDC client and the test site
on a live server, clicked through with ``requests`` the way a browser would. No mocks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from ion_oauth import oidc, transport
from ion_oauth.testing import IonSandbox


@dataclass
class Form:
    """One form: where it posts, the fields it sends, and its submit buttons."""

    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    #: (name, value, label) of each submit button; label is the text a person sees.
    buttons: list[tuple[str, str, str]] = field(default_factory=list)


class FormParser(HTMLParser):
    """Enough HTML for the site's, the sandbox's and django-oauth-toolkit's POST forms:
    hidden inputs, ``<button>`` and ``<input type="submit">`` buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._button: dict[str, str] | None = None
        self._label: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(Form(values.get("action", "")))
        elif tag == "input" and self.forms and values.get("type") == "submit":
            button = (values.get("name", ""), values.get("value", ""), values.get("value", ""))
            self.forms[-1].buttons.append(button)
        elif tag == "input" and self.forms and values.get("name"):
            self.forms[-1].fields.append((values["name"], values.get("value", "")))
        elif tag == "button" and self.forms:
            self._button, self._label = values, []

    def handle_data(self, data: str) -> None:
        self._label.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None:
            label = " ".join("".join(self._label).split())
            name, value = self._button.get("name", ""), self._button.get("value", "")
            self.forms[-1].buttons.append((name, value, label))
            self._button = None


def forms_of(page: requests.Response) -> list[Form]:
    parser = FormParser()
    parser.feed(page.text)
    return parser.forms


class Browser:
    """A ``requests`` session that submits forms by the button a person would click."""

    def __init__(self) -> None:
        self.session = requests.Session()
        # Loopback only: a proxy from the environment must not see these requests.
        self.session.trust_env = False

    def get(self, url: str) -> requests.Response:
        return self.session.get(url, timeout=30)

    def submit(
        self, page: requests.Response, form: Form, button: tuple[str, str]
    ) -> requests.Response:
        data = form.fields + ([button] if button[0] else [])
        return self.session.post(urljoin(page.url, form.action or page.url), data=data, timeout=30)

    def press(self, page: requests.Response, match: Any) -> requests.Response:
        """Submit the form holding the first button for which ``match(name, value, label)``."""
        for form in forms_of(page):
            for name, value, label in form.buttons:
                if match(name, value, label):
                    return self.submit(page, form, (name, value))
        raise AssertionError(f"no such button on {page.url}: {[f.buttons for f in forms_of(page)]}")

    def click(self, page: requests.Response, label: str) -> requests.Response:
        """Click the button labelled ``label``; redirects are followed."""
        return self.press(page, lambda _name, _value, shown: shown == label)

    def pick(self, page: requests.Response, person_id: int) -> requests.Response:
        """On the sandbox's login page, pick the demo person with this id."""
        return self.press(page, lambda name, value, _: (name, value) == ("person", str(person_id)))


class OidcLogin:
    """Logs in to the test site with Ion over OpenID Connect, step by step."""

    def __init__(self, site: str) -> None:
        self.site = site
        self.browser = Browser()

    def post(self, path: str) -> requests.Response:
        """POST to one of the site's URLs with a CSRF token, as a form on the site would."""
        page = self.browser.get(f"{self.site}/login/")
        csrf = [(k, v) for k, v in forms_of(page)[0].fields if k == "csrfmiddlewaretoken"]
        return self.browser.submit(page, Form(path, csrf), ("", ""))

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
    oidc.clear_cache()
    oidc_ion.reset_stats()
    yield f"http://127.0.0.1:{site_port}"
    oidc.clear_cache()


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
