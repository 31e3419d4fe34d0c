"""``/api/profile`` on the sandbox: Ion's recorded bodies, and Ion's 403 for a bad token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ion"
NOT_AUTHENTICATED = {"detail": "Authentication credentials were not provided."}


def recorded_bytes(name: str, sandbox: Any) -> bytes:
    """A recorded profile body, its picture URL moved to the sandbox's host."""
    text = (FIXTURES / name).read_text().strip()
    return text.replace("http://127.0.0.1:8080", sandbox.url).encode()


def access_token(browser: Any, site: Any, person: int) -> str:
    response = site.exchange(browser.code(person))
    return str(response.json()["access_token"])


@pytest.mark.parametrize(
    ("person", "fixture"), [(1, "profile_student.json"), (2, "profile_teacher.json")]
)
def test_profile_is_byte_for_byte_ions_recorded_body(
    ion_sandbox: Any, browser: Any, site: Any, person: int, fixture: str
) -> None:
    response = site.profile(access_token(browser, site, person))

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.content == recorded_bytes(fixture, ion_sandbox)


def test_eighth_period_admin_is_a_teacher_with_is_eighth_admin(browser: Any, site: Any) -> None:
    profile = site.profile(access_token(browser, site, 3)).json()

    assert profile["ion_username"] == "eadmin"
    assert profile["is_eighth_admin"] is True
    assert profile["is_teacher"] is True
    assert profile["student_id"] is None


def test_profile_without_trailing_slash_answers_the_same(site: Any, tokens: dict[str, Any]) -> None:
    with_slash = site.profile(tokens["access_token"], "/api/profile/")
    without = site.profile(tokens["access_token"], "/api/profile")

    assert with_slash.status_code == 200
    assert with_slash.content == without.content


def test_access_token_in_the_query_string_still_works(
    ion_sandbox: Any, tokens: dict[str, Any]
) -> None:
    response = requests.get(
        f"{ion_sandbox.url}/api/profile",
        params={"access_token": tokens["access_token"]},
        timeout=10,
    )

    assert response.status_code == 200


def test_bogus_token_is_403_with_ions_body(site: Any) -> None:
    response = site.profile("not-a-token")

    assert response.status_code == 403
    assert response.json() == NOT_AUTHENTICATED


def test_missing_token_is_403_with_ions_body(ion_sandbox: Any) -> None:
    response = requests.get(f"{ion_sandbox.url}/api/profile", timeout=10)

    assert response.status_code == 403
    assert response.json() == NOT_AUTHENTICATED


def test_expired_token_is_403_with_ions_body(
    ion_sandbox: Any, site: Any, tokens: dict[str, Any]
) -> None:
    ion_sandbox.expire_tokens()

    response = site.profile(tokens["access_token"])

    assert response.status_code == 403
    assert response.json() == NOT_AUTHENTICATED


def test_refresh_works_after_the_access_token_expired(
    ion_sandbox: Any, site: Any, tokens: dict[str, Any]
) -> None:
    ion_sandbox.expire_tokens()

    refreshed = site.refresh(tokens["refresh_token"]).json()

    assert site.profile(refreshed["access_token"]).status_code == 200


def test_picture_is_a_png_labelled_jpeg_as_on_ion(site: Any, tokens: dict[str, Any]) -> None:
    response = site.profile(tokens["access_token"], "/api/profile/2027jdoe/picture")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")


def test_picture_needs_a_login(ion_sandbox: Any) -> None:
    response = requests.get(f"{ion_sandbox.url}/api/profile/1/picture", timeout=10)

    assert response.status_code == 403
    assert response.headers["Content-Type"] == "image/jpg"
    assert response.text == "detail"


def test_picture_of_an_unknown_person_is_404(site: Any, tokens: dict[str, Any]) -> None:
    response = site.profile(tokens["access_token"], "/api/profile/999/picture")

    assert response.status_code == 404
    assert response.text == "details"
