"""A scripted browser: one person logging in to the example site through the Ion sandbox.

Uses a ``requests.Session`` the way a browser uses its cookie jar, so a person stays
logged in to the sandbox between logins (the person picker is shown once, the consent
page every time, as on Ion) while each login starts a new session on the site.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

TIMEOUT = 60.0
SITE_SESSION_COOKIE = "example_sessionid"
SITE_CSRF_COOKIE = "example_csrftoken"


class LoginFailed(Exception):
    """A login that did not end logged in on the site."""


class Form:
    """One ``<form>``: where it posts, its hidden fields and its submit buttons."""

    def __init__(self, attrs: dict[str, str | None]) -> None:
        self.action = attrs.get("action") or ""
        self.id = attrs.get("id") or ""
        self.fields: dict[str, str] = {}
        self.buttons: list[tuple[str, str]] = []


class FormParser(HTMLParser):
    """The forms of a page, enough to press its buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.forms.append(Form(values))
        elif self.forms and tag in ("input", "button"):
            name, value = values.get("name"), values.get("value") or ""
            kind = values.get("type") or ("submit" if tag == "button" else "text")
            if name and kind == "submit":
                self.forms[-1].buttons.append((name, value))
            elif name and kind == "hidden":
                self.forms[-1].fields[name] = value


def forms_of(html: str) -> list[Form]:
    """Every form of a page."""
    parser = FormParser()
    parser.feed(html)
    return parser.forms


def location(response: requests.Response) -> str:
    """Where a redirect goes, as an absolute URL; :class:`LoginFailed` if it is none."""
    if not response.is_redirect:
        raise LoginFailed(f"{urlsplit(response.url).path} answered {response.status_code}")
    return urljoin(response.url, response.headers["Location"])


class Browser:
    """One person (an Ion sandbox person id) logging in to ``site`` again and again."""

    def __init__(self, site: str, person: int, backend: str = "ion") -> None:
        self.site = site.rstrip("/")
        self.person = person
        self.backend = backend
        self.session = requests.Session()
        #: Logins started, successful or not.
        self.attempts = 0

    def close(self) -> None:
        """Close the connections this browser keeps open."""
        self.session.close()

    def get(self, url: str) -> requests.Response:
        """GET without following redirects."""
        return self.session.get(url, allow_redirects=False, timeout=TIMEOUT)

    def post(self, url: str, data: dict[str, str]) -> requests.Response:
        """POST a form without following redirects."""
        return self.session.post(url, data=data, allow_redirects=False, timeout=TIMEOUT)

    def login(self) -> None:
        """A whole login: the site's login button, the sandbox's pages, back to the site.

        Raises :class:`LoginFailed` (or a ``requests`` error) unless it ends with the
        site's redirect to its home page.
        """
        self.attempts += 1
        # A new browser session on the site; the sandbox still knows the person.
        self.session.cookies.pop(SITE_SESSION_COOKIE, None)
        csrf = self.session.cookies.get(SITE_CSRF_COOKIE)
        if not csrf:
            self.get(self.site + "/")
            csrf = self.session.cookies.get(SITE_CSRF_COOKIE)
        response = self.post(
            f"{self.site}/login/{self.backend}/", {"csrfmiddlewaretoken": csrf or ""}
        )
        callback = self.through_ion(location(response), until=f"{self.site}/complete/")
        response = self.get(callback)
        target = response.headers.get("Location", "")
        if response.status_code != 302 or urlsplit(target).path != "/":
            raise LoginFailed(
                f"the callback answered {response.status_code} -> {target!r}"
                + self.error_message(target)
            )

    def through_ion(self, url: str, *, until: str) -> str:
        """From Ion's authorize URL, follow redirects and press the person picker's and
        the consent page's buttons until a redirect to a URL starting with ``until``."""
        for _ in range(6):
            if url.startswith(until):
                return url
            response = self.get(url)
            url = location(response) if response.is_redirect else self.submit(url, response)
        raise LoginFailed(f"the login did not come back from Ion (last page {url})")

    def submit(self, url: str, response: requests.Response) -> str:
        """Press the right button on the sandbox's person picker or consent page."""
        if response.status_code != 200:
            raise LoginFailed(f"{urlsplit(url).path} answered {response.status_code}")
        for form in forms_of(response.text):
            names = {name for name, _ in form.buttons}
            target = urljoin(url, form.action) if form.action else url
            if "person" in names:
                data = {**form.fields, "person": str(self.person)}
            elif "allow" in names:
                data = {**form.fields, "allow": dict(form.buttons)["allow"]}
            else:
                continue
            return location(self.post(target, data))
        raise LoginFailed(f"no person picker or consent form on {urlsplit(url).path}")

    def error_message(self, target: str) -> str:
        """What the site's login-error page tells the person, if it was sent there."""
        if not target or urlsplit(target).path == "/":
            return ""
        page = self.session.get(urljoin(self.site + "/", target), timeout=TIMEOUT).text
        marker = 'class="ion-error">'  # ion_oauth/login_error.html
        start = page.find(marker)
        if start < 0:
            return ""
        return ": " + page[start + len(marker) :].split("<", 1)[0].strip()


def oauth_token(
    sandbox_url: str, person: int, *, client_id: str, client_secret: str, redirect_uri: str
) -> dict[str, Any]:
    """A token for ``person`` straight from the sandbox: authorize as them, trade the code."""
    browser = Browser(sandbox_url, person)
    try:
        query = urlencode(
            {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "scope": "read",
                "state": "bench",
            }
        )
        url = browser.through_ion(f"{browser.site}/oauth/authorize/?{query}", until=redirect_uri)
        response = browser.session.post(
            f"{browser.site}/oauth/token/",
            data={
                "grant_type": "authorization_code",
                "code": parse_qs(urlsplit(url).query)["code"][0],
                "redirect_uri": redirect_uri,
                "client_id": client_id,
                "client_secret": client_secret,
            },
            timeout=TIMEOUT,
        )
        response.raise_for_status()
        token: dict[str, Any] = response.json()
        return token
    finally:
        browser.close()
