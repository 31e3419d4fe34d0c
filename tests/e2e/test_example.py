"""The example project in a real browser: log in with Ion, log out, cancel on Ion."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e

CANCELLED = "You cancelled the login on Ion, so you are not logged in."


def log_in_until_consent(page, example_site):
    """Open the example, click "Log in with Ion" and pick the student on Ion's login page."""
    page.goto(f"{example_site}/")
    page.get_by_role("button", name="Log in with Ion", exact=True).click()
    page.get_by_role("button", name=re.compile("John Doe")).click()


def test_a_student_logs_in_with_ion_and_sees_their_name(page, example_site):
    log_in_until_consent(page, example_site)

    page.get_by_role("button", name="Authorize").click()

    page.wait_for_url(f"{example_site}/")
    assert page.locator("#name").inner_text() == "John Doe"
    assert "2027jdoe" in page.locator("#ion-data").inner_text()


def test_logging_out_shows_the_login_button_again(page, example_site):
    log_in_until_consent(page, example_site)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{example_site}/")

    page.get_by_role("button", name="Log out").click()

    page.wait_for_url(f"{example_site}/")
    assert page.get_by_role("button", name="Log in with Ion", exact=True).is_visible()
    assert page.locator("#name").count() == 0


def test_cancel_on_ion_shows_the_friendly_error_page(page, example_site):
    log_in_until_consent(page, example_site)

    page.get_by_role("button", name="Cancel").click()

    page.wait_for_url(f"{example_site}/login-error/")
    assert page.locator("h1").inner_text() == "Login failed"
    assert page.locator(".ion-messages li").all_inner_texts() == [CANCELLED]


def test_the_screenshot_kept_for_a_failing_test_is_a_png(
    page, example_site, save_screenshot, tmp_path
):
    """Guards the helper the failure hook calls: it must write a real PNG file."""
    page.goto(f"{example_site}/")

    path = save_screenshot(page, "tests/e2e/test_example.py::a test", tmp_path)

    assert path == tmp_path / "tests_e2e_test_example.py_a_test.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_student_logs_in_over_openid_connect_and_sees_their_name(page, example_site):
    page.goto(f"{example_site}/")
    page.get_by_role("button", name="Log in with Ion (OpenID Connect)").click()
    page.get_by_role("button", name=re.compile("John Doe")).click()

    page.get_by_role("button", name="Authorize").click()

    page.wait_for_url(f"{example_site}/")
    assert page.locator("#name").inner_text() == "John Doe"
    assert "2027jdoe" in page.locator("#ion-data").inner_text()
    # Only what the ID token carries: no blank rows for the profile's fields.
    rows = page.locator("#ion-data dd").all_inner_texts()
    assert all(row.strip() for row in rows), rows
    assert "User type" not in page.locator("#ion-data").inner_text()


def test_the_pages_fit_a_phone_and_share_ion_oauths_focus_ring(page, example_site):
    page.goto(f"{example_site}/")

    viewport = page.locator('meta[name="viewport"]').get_attribute("content")
    assert viewport == "width=device-width, initial-scale=1"
    page.keyboard.press("Tab")
    ring = page.evaluate("getComputedStyle(document.activeElement).outlineColor")
    assert ring == "rgb(179, 92, 0)"  # #b35c00, 4.7:1 on white


def test_cancel_on_ion_over_openid_connect_shows_the_friendly_error_page(page, example_site):
    page.goto(f"{example_site}/")
    page.get_by_role("button", name="Log in with Ion (OpenID Connect)").click()
    page.get_by_role("button", name=re.compile("John Doe")).click()

    page.get_by_role("button", name="Cancel").click()

    page.wait_for_url(f"{example_site}/login-error/")
    assert page.locator(".ion-messages li").all_inner_texts() == [CANCELLED]
