"""The package as installed: typed, versioned, and what the tests import."""

from __future__ import annotations

import os
from importlib import metadata
from pathlib import Path

import pytest

import ion_oauth


def test_the_version_matches_the_distribution_metadata():
    assert metadata.version("ion-oauth") == ion_oauth.__version__


def test_the_package_ships_py_typed_and_its_templates():
    root = Path(ion_oauth.__file__).parent

    assert (root / "py.typed").exists()
    assert (root / "templates" / "ion_oauth" / "login_button.html").exists()


@pytest.mark.skipif(
    os.environ.get("ION_OAUTH_EXPECT_INSTALLED") != "1",
    reason="only under tox, which installs the wheel",
)
def test_the_tests_run_against_the_installed_package_not_the_source_tree():
    assert "site-packages" in Path(ion_oauth.__file__).parts
