"""``ion_oauth.testing``'s scripted browser: the form reader, and the steps' failures."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import responses

from ion_oauth.testing import Button, Form, IonBrowser, IonLoginError, forms_of

CONSENT = (
    '<form method="post" id="authorizationForm">'
    '<input type="hidden" name="csrfmiddlewaretoken" value="t">'
    '<input type="hidden" name="state" value="s&amp;t">'
    '<input type="text" name="note" value="x">'
    '<button type="submit" class="primary" name="allow" value="Authorize">Authorize</button>'
    '<button type="submit">\n  Cancel\n</button></form>'
)
PICKER = (
    '<form method="post" action="/login/"><input type="hidden" name="next" value="/back">'
    '<button name="person" value="1" data-username="2027jdoe">John Doe '
    '<span class="muted">(2027jdoe, student)</span></button>'
    '<button name="person" value="2" data-username="msmith">Mary Smith</button></form>'
)
ION = "http://127.0.0.1:8080"
SITE = "http://127.0.0.1:8000"


def test_a_form_gives_its_action_method_id_fields_and_buttons():
    (form,) = forms_of(CONSENT)

    assert (form.action, form.method, form.id) == ("", "post", "authorizationForm")
    assert form.fields == [("csrfmiddlewaretoken", "t"), ("state", "s&t"), ("note", "x")]
    assert form.buttons == [Button("allow", "Authorize", "Authorize"), Button("", "", "Cancel")]


def test_each_form_of_a_page_is_read_apart():
    page = (
        '<form action="/a" method="POST"><input type="hidden" name="x" value="1"></form>'
        '<input type="hidden" name="outside" value="no">'
        '<form action="/b"><input name="y" value="2"><input type="submit" value="Go"></form>'
    )

    first, second = forms_of(page)

    assert (first.action, first.method, first.fields) == ("/a", "post", [("x", "1")])
    assert (second.action, second.method, second.fields) == ("/b", "get", [("y", "2")])
    assert second.buttons == [Button("", "Go", "Go")]


def test_only_checked_boxes_and_no_non_submit_buttons_are_sent():
    page = (
        '<form><input type="checkbox" name="a" checked><input type="checkbox" name="b">'
        '<input type="radio" name="c" value="2" checked><input type="reset" name="r">'
        '<button type="button" name="js">Show</button><button name="go" value="1">Go</button>'
        "</form>"
    )

    (form,) = forms_of(page)

    assert form.fields == [("a", "on"), ("c", "2")]
    assert form.buttons == [Button("go", "1", "Go")]


def test_the_person_pickers_buttons_keep_their_attributes():
    (form,) = forms_of(PICKER)

    john = form.find(name="person", value="1")
    assert john is not None
    assert john.label == "John Doe (2027jdoe, student)"
    assert john.attrs["data-username"] == "2027jdoe"


def test_broken_html_is_read_as_a_browser_reads_it():
    page = '<form action="/x"><input type="hidden" name="a" value="1"><button name="b">B'
    nested = '<form action="/outer"><form action="/inner"><input name="i" value="1"></form>'

    (form,) = forms_of(page)
    assert form.fields == [("a", "1")]
    assert form.buttons == [Button("b", "", "B")]
    assert [(f.action, f.fields) for f in forms_of(nested)] == [("/outer", [("i", "1")])]
    assert forms_of("<p>no form <b>here") == []


def test_form_data_adds_the_pressed_button_only_if_it_has_a_name():
    form = Form(fields=[("a", "1")], buttons=[Button("allow", "Authorize"), Button()])

    assert form.data(form.buttons[0]) == [("a", "1"), ("allow", "Authorize")]
    assert form.data(form.buttons[1]) == [("a", "1")]
    assert form.value("a") == "1"
    assert form.value("missing") is None
    assert form.find(label="nothing") is None


def page(url: str, text: str, status: int = 200) -> requests.Response:
    response = requests.Response()
    response.url, response.status_code = url, status
    response._content = text.encode()
    return response


def test_a_missing_button_is_an_ion_login_error_naming_the_page_and_its_buttons():
    with pytest.raises(IonLoginError) as error:
        IonBrowser().click(page(f"{ION}/oauth/authorize/?code=secret", CONSENT), "Allow")

    message = str(error.value)
    assert message == (
        f"{ION}/oauth/authorize/ (status 200) has no button with label 'Allow'; "
        "its buttons: ['Authorize', 'Cancel']"
    )
    assert isinstance(error.value, AssertionError)


def test_a_page_without_forms_is_an_ion_login_error():
    with pytest.raises(IonLoginError, match=r"has no person 'nobody' to pick"):
        IonBrowser().pick(page(f"{ION}/login/", "<p>Server Error</p>", 500), "nobody")


@responses.activate
def test_submitting_posts_the_fields_and_button_with_the_pages_origin():
    responses.post(f"{ION}/login/", status=302, headers={"Location": "/back"})
    browser = IonBrowser()

    answer = browser.pick(page(f"{ION}/login/?next=/back", PICKER), "msmith", follow=False)

    sent = responses.calls[0].request
    assert answer.status_code == 302
    assert sent.body == "next=%2Fback&person=2"
    assert sent.headers["Origin"] == ION


@responses.activate
def test_authorize_picks_the_person_presses_authorize_and_returns_the_sites_callback():
    authorize = f"{ION}/oauth/authorize/?client_id=c"
    responses.get(authorize, status=302, headers={"Location": "/login/?next=/oauth/authorize/"})
    responses.get(f"{ION}/login/", body=PICKER)
    responses.post(f"{ION}/login/", status=302, headers={"Location": "/consent"})
    responses.get(
        f"{ION}/consent",
        body=CONSENT.replace("<form", '<strong data-username="2027jdoe"></strong><form'),
    )
    responses.post(
        f"{ION}/consent", status=302, headers={"Location": f"{SITE}/complete/ion/?code=c"}
    )

    callback = IonBrowser().authorize(authorize)

    assert callback == f"{SITE}/complete/ion/?code=c"
    assert responses.calls[-1].request.body.endswith("allow=Authorize")


@responses.activate
def test_a_consent_page_for_someone_else_is_an_ion_login_error():
    responses.get(f"{ION}/consent", body='<strong data-username="msmith"></strong>' + CONSENT)

    with pytest.raises(IonLoginError, match="asks 'msmith' to authorize, not '2027jdoe'"):
        IonBrowser().authorize(f"{ION}/consent")


@responses.activate
def test_an_error_page_at_ion_is_an_ion_login_error_with_its_status():
    responses.get(f"{ION}/oauth/authorize/", status=400, body="<h1>Invalid client</h1>")

    with pytest.raises(IonLoginError) as error:
        IonBrowser().authorize(f"{ION}/oauth/authorize/?client_id=c&state=s")

    assert str(error.value) == (
        f"{ION}/oauth/authorize/ answered 400; expected the sandbox's person picker or consent "
        "page, with buttons: []"
    )


@responses.activate
def test_a_site_without_the_login_form_is_an_ion_login_error():
    responses.get(f"{SITE}/login/", body="<p>Log in</p>")

    with pytest.raises(IonLoginError) as error:
        IonBrowser().begin(SITE)

    assert str(error.value) == (
        f"{SITE}/login/ answered 200; expected a login page with a form that posts to /login/ion/"
    )


@responses.activate
def test_a_redirect_loop_at_ion_is_an_ion_login_error():
    responses.get(f"{ION}/loop", status=302, headers={"Location": "/loop"})

    with pytest.raises(IonLoginError, match="did not leave the sandbox"):
        IonBrowser().authorize(f"{ION}/loop")


def test_a_browser_closes_its_session(monkeypatch: Any):
    closed = []
    with IonBrowser() as browser:
        monkeypatch.setattr(browser.session, "close", lambda: closed.append(True))

    assert closed == [True]
