"""The real thing over loopback HTTP: the Ion sandbox, the test site on a live server, and
a ``requests`` session that clicks through both the way a browser would. No mocks."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from ion_oauth.testing import IonSandbox


@dataclass
class Form:
    """One POST form: where it goes, its hidden fields and its submit buttons."""

    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    #: (name, value, label) of each submit button; label is the text a person sees.
    buttons: list[tuple[str, str, str]] = field(default_factory=list)


class FormParser(HTMLParser):
    """Collects the forms of a page: enough of HTML for the site's and Ion's pages,
    whose forms are all POST forms of hidden inputs and submit buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._button: dict[str, str] | None = None
        self._label: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(Form(values.get("action", "")))
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


def forms_of(response: requests.Response) -> list[Form]:
    """The forms on a page."""
    parser = FormParser()
    parser.feed(response.text)
    return parser.forms


class Browser:
    """A ``requests`` session that submits forms by the button a person would click."""

    def __init__(self) -> None:
        self.session = requests.Session()
        # Loopback only: a proxy from the environment must not see these requests.
        self.session.trust_env = False

    def get(self, url: str) -> requests.Response:
        return self.session.get(url, timeout=30)

    def click(self, page: requests.Response, label: str) -> requests.Response:
        """Submit the form holding the button labelled ``label``; follow redirects."""
        for form in forms_of(page):
            for name, value, shown in form.buttons:
                if shown == label:
                    return self.submit(page, form, [(name, value)] if name else [])
        labels = [shown for form in forms_of(page) for _, _, shown in form.buttons]
        raise AssertionError(f"no button {label!r} on {page.url}; buttons: {labels}")

    def pick(self, page: requests.Response, person_id: int) -> requests.Response:
        """On the sandbox's login page, pick the demo person with this id."""
        for form in forms_of(page):
            for name, value, _ in form.buttons:
                if name == "person" and value == str(person_id):
                    return self.submit(page, form, [(name, value)])
        raise AssertionError(f"no demo person {person_id} to pick on {page.url}")

    def submit(
        self, page: requests.Response, form: Form, button: list[tuple[str, str]]
    ) -> requests.Response:
        """POST the form as a browser would when that button is clicked."""
        url = urljoin(page.url, form.action or page.url)
        return self.session.post(url, data=form.fields + button, timeout=30)


class IonLogin:
    """Logs in to the test site with Ion, step by step, over real HTTP."""

    def __init__(self, site: str, ion: IonSandbox) -> None:
        self.site = site
        self.ion = ion
        self.browser = Browser()

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
    compares it for ``localhost``).
    """
    with IonSandbox(redirect_uris=[f"http://127.0.0.1:{site_port}/complete/ion/"]) as sandbox:
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
