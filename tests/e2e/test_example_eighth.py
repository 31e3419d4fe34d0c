"""The example's eighth-period page and home-page bell schedule in a real browser."""

from __future__ import annotations

import re

import pytest
import requests

pytestmark = pytest.mark.e2e


def log_in(page, site):
    page.goto(f"{site}/")
    page.get_by_role("button", name="Log in with Ion", exact=True).click()
    page.get_by_role("button", name=re.compile("John Doe")).click()
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{site}/")


def test_the_home_page_shows_todays_bell_schedule(page, example_stack):
    site, ion = example_stack
    log_in(page, site)

    # The site's today (its TIME_ZONE), which may be a day behind the sandbox's UTC date.
    today = page.locator("#bell").get_attribute("data-date")
    day = requests.get(f"{ion.url}/api/schedule/{today}", timeout=10).json()
    schedule = page.locator("#schedule").inner_text()

    if day["day_type"]["blocks"]:
        assert day["day_type"]["blocks"][0]["start"] in schedule
        assert day["day_type"]["name"] in schedule
    else:
        assert schedule == "No school today."


def test_a_student_signs_up_and_sees_ions_refusals(page, example_stack):
    site, ion = example_stack
    ion.reset_api_data()
    log_in(page, site)
    page.get_by_role("link", name="Eighth period").click()

    assert "Senior Seminar (S)" in page.locator("#signups").inner_text()
    first_block = page.locator("section.block").first
    assert "block A" in first_block.locator("h2").inner_text()
    chess = first_block.locator("tr.activity", has_text="Chess Club")
    assert "1 / 1" in chess.inner_text()
    assert "201" in chess.inner_text()

    page.get_by_role("button", name="Sign up for Robotics Club (A)").first.click()
    assert page.locator(".message").inner_text() == "You are signed up for Robotics Club."
    robotics = page.locator("section.block").first.locator("tr.activity", has_text="Robotics")
    assert "Your choice" in robotics.inner_text()
    assert "Robotics Club" in page.locator("#signups").inner_text()

    page.get_by_role("button", name="Sign up for Chess Club (A)").first.click()
    assert page.locator(".message").inner_text() == (
        "This activity is full. You may not sign up for it at this time."
    )

    page.get_by_role("button", name="Sign up for Science Olympiad (A)").first.click()
    assert page.locator(".message").inner_text() == (
        "You may not sign up for this restricted activity. You are not on the authorized list."
    )
    ion.reset_api_data()
