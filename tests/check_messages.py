"""Every system check message word for word: a site's administrator acts on the message and
its hint, so a word lost or changed is a bug. Each check module's tests hold a table::

    PINNED = {
        "E030": (check_cookies, {"SESSION_COOKIE_SAMESITE": "Strict"}, ERROR, msg, hint),
        "E011 (clear text)": (...),  # a second case of one id: anything after a space
    }

and hand each case to :func:`assert_word_for_word`. A setting given as ``UNSET`` is
deleted, so the check sees a site that never set it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

ERROR, WARNING = 40, 30
UNSET = object()

#: For a test that runs the system checks: Django 6.1's model checks ask every database
#: whether it supports JSONField, so such a test may use every test database.
RUNS_SYSTEM_CHECKS = pytest.mark.django_db(databases=["default", "other"])

Pinned = tuple[Callable[[], list[Any]], dict[str, Any], int, str, str]


def assert_word_for_word(settings: Any, case: str, pinned: Pinned) -> None:
    check, overrides, level, msg, hint = pinned
    for name, value in overrides.items():
        if value is UNSET:
            delattr(settings, name)
        else:
            setattr(settings, name, value)

    [message] = check()

    expected_id = "ion_oauth." + case.split(maxsplit=1)[0]
    assert (message.id, message.level, message.msg, message.hint) == (
        expected_id,
        level,
        msg,
        hint,
    )
