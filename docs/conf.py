"""Sphinx configuration for ion-oauth's documentation: ``tox -e docs`` builds it into
``docs/_build/html`` with warnings as errors and nitpicky references."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import django

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

# autodoc imports the package, and parts of it need configured settings.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "docs_settings")
django.setup()

import ion_oauth  # noqa: E402 - after django.setup()

project = "ion-oauth"
copyright = "The ion-oauth developers, MIT licence"
release = ion_oauth.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "ion_docs",
]

source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "README.md"]
root_doc = "index"

# Headings get anchors, so ``[text](page.md#a-heading)`` links are checked by the build.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "deflist"]

# Messages and settings are quoted exactly as the package writes them: no curly quotes.
smartquotes = False

html_theme = "furo"
html_title = f"ion-oauth {release}"
html_static_path: list[str] = []

# Nitpicky (-n) checks every reference to ion-oauth's own names. Names of other projects
# (Django, social-auth, requests, the standard library) would need intersphinx, which needs
# the network; they are left as plain text.
nitpicky = True
nitpick_ignore_regex = [(r"py:.*", r"(?!ion_oauth\b).*")]
# TypeVars (``T``, ``View``) are left as text by docs/_ext/ion_docs.py.

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
