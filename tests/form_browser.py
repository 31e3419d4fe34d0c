"""A scripted browser for the integration tests: a ``requests`` session that fills in and
submits the POST forms of the site, the sandbox and django-oauth-toolkit by the button a person
would click."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests


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
    """The forms on a page."""
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
        """POST the form as a browser would when that button is clicked."""
        data = form.fields + ([button] if button[0] else [])
        return self.session.post(urljoin(page.url, form.action or page.url), data=data, timeout=30)

    def press(
        self, page: requests.Response, match: Callable[[str, str, str], bool]
    ) -> requests.Response:
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
