"""The e2e harness's rule for missing tools: skip on a developer's machine, fail in CI."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_a_missing_tool_skips_the_test_outside_ci(missing, monkeypatch):
    monkeypatch.delenv("CI", raising=False)

    with pytest.raises(pytest.skip.Exception, match="Chromium is not installed"):
        missing("Chromium is not installed")


def test_a_missing_tool_fails_the_test_in_ci(missing, monkeypatch):
    monkeypatch.setenv("CI", "true")

    with pytest.raises(pytest.fail.Exception, match=r"Chromium is not installed \(CI=true"):
        missing("Chromium is not installed")
