"""The example's live Ion API page in a real browser, across token expiry and revocation."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e


def log_in(page, site):
    page.goto(f"{site}/")
    page.get_by_role("button", name="Log in with Ion", exact=True).click()
    page.get_by_role("button", name=re.compile("John Doe")).click()
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{site}/")


def test_the_live_page_calls_ion_and_survives_an_expired_access_token(page, example_stack):
    site, ion = example_stack
    log_in(page, site)
    page.get_by_role("link", name="Ask Ion for my profile now").click()
    assert "2027jdoe" in page.locator("#live").inner_text()
    ion.reset_stats()

    ion.expire_tokens()
    page.reload()

    assert "2027jdoe" in page.locator("#live").inner_text()
    assert ion.stats()["token_requests"].get("refresh_token") == 1


def test_a_revoked_login_goes_through_ion_again_and_back_to_the_live_page(page, example_stack):
    site, ion = example_stack
    log_in(page, site)

    ion.revoke_tokens()
    page.goto(f"{site}/ion/live/")

    page.wait_for_url(re.compile(r"/\?next=/ion/live/$"))
    assert page.locator(".message").inner_text() == (
        "Your Ion login has expired or was revoked. Please log in with Ion again."
    )
    page.get_by_role("button", name="Log in with Ion", exact=True).click()
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{site}/ion/live/")
    assert "2027jdoe" in page.locator("#live").inner_text()
