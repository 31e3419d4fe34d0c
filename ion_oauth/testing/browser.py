"""A scripted browser: logs a person in to a site through the Ion sandbox's real pages.

:func:`log_in` and :func:`log_in_client` are the whole login in one call; :class:`IonBrowser`
is the same browser a step at a time, and :func:`forms_of` the form reader under it (the
standard library's ``html.parser``, no browser engine). A step that does not go as a person's
browser would see it go raises :class:`IonLoginError`.
"""

from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass, field
from html.parser import HTMLParser
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

if TYPE_CHECKING:
    from django.test import Client

    from ion_oauth.testing.sandbox import IonSandbox

__all__ = [
    "Button",
    "Form",
    "IonBrowser",
    "IonLoginError",
    "fetch_tokens",
    "forms_of",
    "log_in",
    "log_in_client",
]

#: The sandbox's student, John Doe: who logs in unless a test says otherwise.
DEFAULT_USERNAME = "2027jdoe"
#: Seconds to wait for each page.
TIMEOUT = 30.0
# The sandbox's pages between its authorize URL and the site: a redirect to the person picker,
# the picker, the redirect back, the consent page. More means it is going round in circles.
_MAX_PAGES = 8
_LOGGED_IN_AS = re.compile(r'data-username="([^"]*)"')
_SITE_ERROR = re.compile(r'class="(?:ion-)?error">(.*?)<', re.DOTALL)


class IonLoginError(AssertionError):
    """A step of a scripted login did not go as it would for a person at a browser.

    The message names the page (scheme, host and path: never a query string, which may hold
    an authorization code), what was expected there and what the page answered. It is an
    ``AssertionError``, so a test that meets it fails rather than errors.
    """


@dataclass
class Button:
    """A submit button: ``<button>`` (type submit, the default) or ``<input type="submit">``.

    ``label`` is the text a person sees, whitespace collapsed; ``attrs`` every attribute.
    A button without a ``name`` adds nothing to the form's data when pressed.
    """

    name: str = ""
    value: str = ""
    label: str = ""
    attrs: dict[str, str] = field(default_factory=dict, compare=False, repr=False)


@dataclass
class Form:
    """A ``<form>``: where and how it submits, the fields it sends, and its submit buttons.

    ``fields`` holds each named ``<input>`` in page order (hidden, text and the like; checkboxes
    and radio buttons only when ``checked``). ``<textarea>`` and ``<select>`` are not read: no
    page of the sandbox or the package has them in a login.
    """

    action: str = ""
    method: str = "get"
    id: str = ""
    fields: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)

    def value(self, name: str) -> str | None:
        """The value of the first field called ``name``, or None."""
        return next((value for key, value in self.fields if key == name), None)

    def data(self, button: Button | None = None) -> list[tuple[str, str]]:
        """What the browser sends when ``button`` is pressed: the fields, then the button's
        name and value if it has a name."""
        pressed = [(button.name, button.value)] if button is not None and button.name else []
        return [*self.fields, *pressed]

    def find(
        self, *, label: str | None = None, name: str | None = None, value: str | None = None
    ) -> Button | None:
        """The first button matching every criterion given, or None."""
        for button in self.buttons:
            if (
                (label is None or button.label == label)
                and (name is None or button.name == name)
                and (value is None or button.value == value)
            ):
                return button
        return None


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._button: dict[str, str] | None = None
        self._label: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag == "form":
            # A form inside a form is ignored, as browsers ignore it.
            if self._form is None:
                self._form = Form(
                    action=values.get("action", ""),
                    method=values.get("method", "get").lower() or "get",
                    id=values.get("id", ""),
                )
                self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input":
            self._input(self._form, values)
        elif tag == "button":
            self._end_button()
            self._button, self._label = values, []

    def _input(self, form: Form, values: dict[str, str]) -> None:
        kind, name = values.get("type", "text").lower(), values.get("name", "")
        if kind == "submit":
            value = values.get("value", "")
            form.buttons.append(Button(name, value, value or "Submit", values))
        elif kind in ("checkbox", "radio"):
            if name and "checked" in values:
                form.fields.append((name, values.get("value", "on")))
        elif name and kind not in ("button", "reset", "file", "image"):
            form.fields.append((name, values.get("value", "")))

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._label.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self._end_button()
        elif tag == "form":
            self._end_button()
            self._form = None

    def _end_button(self) -> None:
        attrs, self._button = self._button, None
        if attrs is None or self._form is None:
            return
        if attrs.get("type", "submit").lower() == "submit":
            label = " ".join("".join(self._label).split())
            name, value = attrs.get("name", ""), attrs.get("value", "")
            self._form.buttons.append(Button(name, value, label, attrs))


def forms_of(page: str) -> list[Form]:
    """Every form of an HTML page, in page order; a page with none gives ``[]``.

    Broken HTML is read as leniently as a browser would read it: an unclosed form ends
    where the page does, and inputs outside any form are left out.
    """
    parser = _FormParser()
    parser.feed(page)
    parser.close()
    parser.handle_endtag("form")
    return parser.forms


def _where(url: str) -> str:
    """A URL fit for a message: no query string and no fragment."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _location(response: requests.Response, expected: str) -> str:
    """Where a redirect goes, as an absolute URL; IonLoginError if it is not a redirect."""
    if not response.is_redirect:
        raise IonLoginError(
            f"{_where(response.url)} answered {response.status_code}; expected {expected}"
        )
    return urljoin(response.url, response.headers["Location"])


def _buttons(page: requests.Response) -> list[str]:
    return [button.label for form in forms_of(page.text) for button in form.buttons]


class IonBrowser:
    """A person at a browser, scripted: a ``requests.Session`` whose cookie jar keeps them
    logged in to the site and to the sandbox, and which submits forms by the button a person
    would press.

    Pass ``session`` to go on with one that is already logged in somewhere; by default a
    new one that ignores proxy settings from the environment (everything is on loopback).
    Like a browser, it stays logged in to the sandbox between logins, so the person picker is
    shown only for the first: the consent page is shown every time, as on Ion.
    """

    def __init__(self, session: requests.Session | None = None, *, timeout: float = TIMEOUT):
        if session is None:
            session = requests.Session()
            session.trust_env = False
        self.session = session
        self.timeout = timeout

    def __enter__(self) -> IonBrowser:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections the session keeps open (its cookies stay)."""
        self.session.close()

    def get(self, url: str, *, follow: bool = True) -> requests.Response:
        """GET ``url``; ``follow=False`` returns a redirect instead of following it."""
        return self.session.get(url, allow_redirects=follow, timeout=self.timeout)

    def post(
        self, url: str, data: list[tuple[str, str]] | dict[str, str], *, follow: bool = True
    ) -> requests.Response:
        """POST form data to ``url`` with the ``Origin`` header a browser sends."""
        return self._post(url, data, origin=_origin(url), follow=follow)

    def _post(
        self,
        url: str,
        data: list[tuple[str, str]] | dict[str, str],
        *,
        origin: str,
        follow: bool,
    ) -> requests.Response:
        # The Origin header goes with the POST only: requests would send it on along the
        # redirects, where a browser sends none (and the sandbox refuses a foreign one).
        answer = self.session.post(
            url, data=data, headers={"Origin": origin}, allow_redirects=False, timeout=self.timeout
        )
        if follow and answer.is_redirect:
            return self.get(urljoin(answer.url, answer.headers["Location"]))
        return answer

    def submit(
        self,
        page: requests.Response,
        form: Form,
        button: Button | None = None,
        *,
        follow: bool = True,
    ) -> requests.Response:
        """Submit ``form`` of ``page`` as if ``button`` was pressed (any button, even one the
        form does not have: a test may send what no page offers)."""
        url = urljoin(page.url, form.action or page.url)
        if form.method == "post":
            return self._post(url, form.data(button), origin=_origin(page.url), follow=follow)
        return self.session.get(
            url, params=form.data(button), allow_redirects=follow, timeout=self.timeout
        )

    def press(
        self,
        page: requests.Response,
        *,
        label: str | None = None,
        name: str | None = None,
        value: str | None = None,
        follow: bool = True,
    ) -> requests.Response:
        """Press the first button of ``page`` that matches every criterion given.

        :raises IonLoginError: no button matches; the message lists the page's buttons.
        """
        for form in forms_of(page.text):
            button = form.find(label=label, name=name, value=value)
            if button is not None:
                return self.submit(page, form, button, follow=follow)
        wanted = {"label": label, "name": name, "value": value}
        described = ", ".join(f"{key} {text!r}" for key, text in wanted.items() if text is not None)
        raise IonLoginError(
            f"{_where(page.url)} (status {page.status_code}) has no button with {described}; "
            f"its buttons: {_buttons(page)}"
        )

    def click(
        self, page: requests.Response, label: str, *, follow: bool = True
    ) -> requests.Response:
        """Press the button labelled ``label`` ("Log in with Ion", "Authorize", "Cancel")."""
        return self.press(page, label=label, follow=follow)

    def pick(
        self, page: requests.Response, person: str | int, *, follow: bool = True
    ) -> requests.Response:
        """On the sandbox's person picker, pick ``person``: an Ion username, or a person's id."""
        if isinstance(person, int):
            return self.press(page, name="person", value=str(person), follow=follow)
        for form in forms_of(page.text):
            for button in form.buttons:
                if button.name == "person" and button.attrs.get("data-username") == person:
                    return self.submit(page, form, button, follow=follow)
        raise IonLoginError(
            f"{_where(page.url)} (status {page.status_code}) has no person {person!r} to pick; "
            f"expected the sandbox's person picker, with buttons: {_buttons(page)}"
        )

    def authorize(
        self, url: str, *, username: str | int = DEFAULT_USERNAME, approve: bool = True
    ) -> str:
        """From an authorization URL on the sandbox, go through its person picker (if the
        person is not logged in there yet) and its consent page, pressing **Authorize**, or
        **Cancel** if not ``approve``. Returns where the sandbox then sends the browser (the
        client's redirect URI with ``code`` and ``state``, or ``error=access_denied``),
        without fetching it.

        :raises IonLoginError: a page that is neither, an error status, a consent page for
            another person than ``username``, or more pages than a login takes.
        """
        sandbox = _origin(url)
        for _ in range(_MAX_PAGES):
            if _origin(url) != sandbox:
                return url
            page = self.get(url, follow=False)
            if page.is_redirect:
                url = _location(page, "a redirect")
                continue
            forms = forms_of(page.text)
            if any(button.name == "person" for form in forms for button in form.buttons):
                answer = self.pick(page, username, follow=False)
                url = _location(answer, "a redirect back to the consent page")
            elif any(form.find(name="allow") for form in forms):
                self._check_person(page, username)
                answer = (
                    self.press(page, name="allow", follow=False)
                    if approve
                    else (self.click(page, "Cancel", follow=False))
                )
                url = _location(answer, "a redirect to the site")
            else:
                raise IonLoginError(
                    f"{_where(page.url)} answered {page.status_code}; expected the sandbox's "
                    f"person picker or consent page, with buttons: {_buttons(page)}"
                )
        raise IonLoginError(f"the login did not leave the sandbox (last page {_where(url)})")

    @staticmethod
    def _check_person(page: requests.Response, username: str | int) -> None:
        shown = _LOGGED_IN_AS.search(page.text)
        if isinstance(username, str) and shown and html.unescape(shown.group(1)) != username:
            raise IonLoginError(
                f"{_where(page.url)} asks {shown.group(1)!r} to authorize, not {username!r}: "
                "this session is logged in to the sandbox as someone else; use a new one"
            )

    def begin(
        self,
        site_url: str,
        *,
        backend: str = "ion",
        next_url: str | None = None,
        login_page: str = "/login/",
    ) -> str:
        """Open the site's ``login_page`` and press its button that posts to
        ``/login/<backend>/``; return the site's redirect (the sandbox's authorization URL).

        :raises IonLoginError: no such form on the page, or no redirect from the site.
        """
        site = site_url.rstrip("/")
        page = self.get(site + login_page)
        begin_path = urlsplit(f"{site}/login/{backend}/").path
        for form in forms_of(page.text):
            if urlsplit(urljoin(page.url, form.action)).path == begin_path:
                if next_url is not None:
                    form.fields = [(k, v) for k, v in form.fields if k != "next"]
                    form.fields.append(("next", next_url))
                button = form.buttons[0] if form.buttons else None
                answer = self.submit(page, form, button, follow=False)
                return _location(answer, f"a redirect from {begin_path} to Ion")
        raise IonLoginError(
            f"{_where(page.url)} answered {page.status_code}; expected a login page with a "
            f"form that posts to {begin_path}"
        )

    def log_in(
        self,
        site_url: str,
        sandbox: IonSandbox | str,
        *,
        username: str | int = DEFAULT_USERNAME,
        approve: bool = True,
        backend: str = "ion",
        next_url: str | None = None,
        login_page: str = "/login/",
        error_page: str = "/login-error/",
    ) -> requests.Response:
        """A whole login, as :func:`log_in` describes; returns the page the site ends on."""
        authorize_url = self.begin(
            site_url, backend=backend, next_url=next_url, login_page=login_page
        )
        _check_sandbox(authorize_url, sandbox)
        callback = self.authorize(authorize_url, username=username, approve=approve)
        return self.get(self.complete(callback, approve=approve, error_page=error_page))

    def complete(
        self, callback: str, *, approve: bool = True, error_page: str = "/login-error/"
    ) -> str:
        """Open the site's ``callback`` URL (from :meth:`authorize`); return where the site
        then sends the browser, without going there.

        :raises IonLoginError: no redirect; after Authorize, a redirect to ``error_page``
            (the message quotes what that page says); after Cancel, a redirect elsewhere.
        """
        done = self.get(callback, follow=False)
        target = _location(done, "a redirect from the site's callback")
        _check_outcome(callback, target, approve, urljoin(callback, error_page), self._messages)
        return target

    def _messages(self, url: str) -> list[str]:
        page = self.get(url)
        return [html.unescape(" ".join(m.split())) for m in _SITE_ERROR.findall(page.text)]


def _check_sandbox(authorize_url: str, sandbox: IonSandbox | str) -> None:
    expected = _origin(sandbox if isinstance(sandbox, str) else sandbox.url)
    if _origin(authorize_url) != expected:
        raise IonLoginError(
            f"the site sent the browser to {_where(authorize_url)}, not to the Ion sandbox at "
            f"{expected}: is SOCIAL_AUTH_ION_BASE_URL the sandbox's URL?"
        )


def _check_outcome(
    callback: str, target: str, approve: bool, error_page: str, messages: Any
) -> None:
    """Authorize must not end on the site's login-error page; Cancel must."""
    failed = urlsplit(target).path == urlsplit(error_page).path
    if approve and failed:
        said = messages(urljoin(callback, target)) if messages is not None else []
        raise IonLoginError(
            f"{_where(callback)} sent the browser to the login-error page {_where(target)} "
            f"after Authorize; expected a logged-in page. The page says: {said}"
        )
    if not approve and not failed:
        raise IonLoginError(
            f"{_where(callback)} sent the browser to {_where(target)} after Cancel; "
            f"expected the login-error page {urlsplit(error_page).path}"
        )


def log_in(
    site_url: str,
    sandbox: IonSandbox | str,
    *,
    username: str | int = DEFAULT_USERNAME,
    approve: bool = True,
    session: requests.Session | None = None,
    backend: str = "ion",
    next_url: str | None = None,
    login_page: str = "/login/",
    error_page: str = "/login-error/",
) -> requests.Session:
    """Log ``username`` in to the site at ``site_url`` with the Ion ``sandbox``, over HTTP,
    the way a person's browser does; return the ``requests.Session``, logged in.

    Opens the site's ``login_page`` and presses the button that posts to
    ``/login/<backend>/`` (with ``next_url`` as ``next`` if given), picks ``username`` (an Ion
    username, or a person's id) on the sandbox's person picker, presses **Authorize** on its
    consent page (**Cancel** if not ``approve``), and follows the site's callback to the page
    it ends on. ``session`` goes on with an existing session (by default a new one). Close
    the session when done (``with log_in(...) as session:``): a connection it keeps open
    outlives the test, and a live server's thread with it.

    With ``approve=False`` the login must end on the site's ``error_page`` (social-auth's
    ``LOGIN_ERROR_URL``), and the session is returned not logged in.

    :raises IonLoginError: a step went otherwise: a page without the expected form, an error
        status, a redirect to another Ion than ``sandbox``, a login sent to ``error_page``
        after Authorize (the message quotes what the page says) or not sent there after
        Cancel.
    """
    browser = IonBrowser(session)
    try:
        browser.log_in(
            site_url,
            sandbox,
            username=username,
            approve=approve,
            backend=backend,
            next_url=next_url,
            login_page=login_page,
            error_page=error_page,
        )
    except BaseException:
        if session is None:
            browser.close()
        raise
    return browser.session


def log_in_client(
    client: Client,
    sandbox: IonSandbox | str,
    *,
    username: str | int = DEFAULT_USERNAME,
    approve: bool = True,
    backend: str = "ion",
    next_url: str | None = None,
    login_page: str = "/login/",
    error_page: str = "/login-error/",
) -> Client:
    """:func:`log_in` for Django's test ``Client``: the site's own pages are requests to the
    ``client`` (in-process, its session and cookies), the sandbox's are real HTTP requests.
    Returns ``client``, logged in (or, with ``approve=False``, sent to ``error_page``).

    The sandbox must accept the site's callback as the site builds it in tests
    (``http://testserver/complete/<backend>/``): register it with
    ``IonSandbox(redirect_uris=[...])``.

    :raises IonLoginError: as for :func:`log_in`.
    """
    page = client.get(login_page, follow=True)
    begin_path = f"/login/{backend}/"
    form = next(
        (f for f in forms_of(page.content.decode()) if urlsplit(f.action).path == begin_path),
        None,
    )
    if form is None:
        raise IonLoginError(
            f"{login_page} answered {page.status_code}; expected a login page with a form "
            f"that posts to {begin_path}"
        )
    data: dict[str, list[str]] = {}
    for key, value in form.fields:
        data.setdefault(key, []).append(value)
    if next_url is not None:
        data["next"] = [next_url]
    begun = client.post(begin_path, data)
    if begun.status_code not in (301, 302, 303, 307, 308):
        raise IonLoginError(
            f"{begin_path} answered {begun.status_code}; expected a redirect to Ion"
        )
    authorize_url = begun["Location"]
    _check_sandbox(authorize_url, sandbox)
    with IonBrowser() as browser:
        callback = browser.authorize(authorize_url, username=username, approve=approve)
    parts = urlsplit(callback)
    done = client.get(f"{parts.path}?{parts.query}")
    if done.status_code not in (301, 302, 303, 307, 308):
        raise IonLoginError(
            f"{parts.path} answered {done.status_code}; expected a redirect from the site's "
            "callback"
        )

    def messages(url: str) -> list[str]:
        text = client.get(urlsplit(url).path).content.decode()
        return [html.unescape(" ".join(m.split())) for m in _SITE_ERROR.findall(text)]

    _check_outcome(callback, done["Location"], approve, urljoin(callback, error_page), messages)
    return client


def fetch_tokens(
    sandbox: IonSandbox,
    *,
    username: str | int = DEFAULT_USERNAME,
    scope: str = "read",
    redirect_uri: str = "http://127.0.0.1:8000/complete/ion/",
    session: requests.Session | None = None,
) -> dict[str, Any]:
    """Tokens for ``username`` straight from the sandbox, with no site in between: authorize
    as that person with the sandbox's OAuth2 client, then trade the code as a server would.
    Returns Ion's token response (``access_token``, ``refresh_token``, ``expires_in``, ...),
    for tests of code that calls Ion's API with a token.

    ``redirect_uri`` must be registered with the sandbox (the default is).

    :raises IonLoginError: a step of the authorization, or the token request, failed.
    """
    browser = IonBrowser(session)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": sandbox.client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": secrets.token_urlsafe(16),
        }
    )
    callback = browser.authorize(f"{sandbox.url}/oauth/authorize/?{query}", username=username)
    code = parse_qs(urlsplit(callback).query).get("code", [""])[0]
    if not code:
        raise IonLoginError(f"the sandbox sent {_where(callback)} no authorization code")
    answer = browser.session.post(
        f"{sandbox.url}/oauth/token/",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
        },
        timeout=browser.timeout,
    )
    if answer.status_code != 200:
        raise IonLoginError(
            f"{_where(answer.url)} answered {answer.status_code}; expected a token response"
        )
    tokens: dict[str, Any] = answer.json()
    return tokens
