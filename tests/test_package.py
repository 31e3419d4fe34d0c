"""The package as installed: typed, versioned, and what the tests import."""

from __future__ import annotations

import os
import re
from importlib import metadata
from pathlib import Path

import pytest

import ion_oauth


def test_the_version_matches_the_distribution_metadata():
    assert metadata.version("ion-oauth") == ion_oauth.__version__


ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_the_version_sorts_after_the_2016_ion_oauth_on_pypi():
    """PyPI's ``ion-oauth`` 0.1 is the 2016 package; 0.1.0 compared equal to it."""
    assert tuple(int(part) for part in ion_oauth.__version__.split(".")[:2]) >= (1, 0)


def test_every_install_line_in_the_readme_and_docs_can_never_resolve_to_the_2016_release():
    lines = [
        line
        for document in DOCUMENTS
        for line in document.read_text().splitlines()
        if re.search(r"pip install\b.*ion[-_]oauth", line, re.IGNORECASE)
    ]
    requirements = re.findall(r"pip install \"(ion-oauth[^\"]*)\"", "\n".join(lines))

    assert len(requirements) >= 3
    for requirement in requirements:
        assert ">=1.0" in requirement or " @ git+https://" in requirement, requirement
    assert not re.search(r"pip install ion[-_]oauth\b(?!\S)", "\n".join(lines)), lines


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
