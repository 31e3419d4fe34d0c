"""Fixtures shared by the unit tests: Ion's recorded JSON, and Ion faked with ``responses``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses
from ion_fakes import IonLogin, load_fixture


@pytest.fixture
def student_profile() -> dict[str, Any]:
    return load_fixture("profile_student.json")  # type: ignore[no-any-return]


@pytest.fixture
def teacher_profile() -> dict[str, Any]:
    return load_fixture("profile_teacher.json")  # type: ignore[no-any-return]


@pytest.fixture
def token_response() -> dict[str, Any]:
    return load_fixture("token_response.json")  # type: ignore[no-any-return]


@pytest.fixture
def fake_ion() -> Iterator[responses.RequestsMock]:
    """Ion at ``SOCIAL_AUTH_ION_BASE_URL`` of the test settings; every call must be mocked."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def ion_login(client: Any, fake_ion: responses.RequestsMock) -> IonLogin:
    return IonLogin(client, fake_ion)
