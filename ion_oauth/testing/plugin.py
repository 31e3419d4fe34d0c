"""The pytest fixtures: ``pytest_plugins = ["ion_oauth.testing"]`` in a root ``conftest.py``.

``ion_sandbox`` is one :class:`~ion_oauth.testing.IonSandbox` for the whole test session;
override ``ion_sandbox_redirect_uris`` to register your test site's callback URLs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ion_oauth.testing.sandbox import IonSandbox


@pytest.fixture(scope="session")
def ion_sandbox_redirect_uris() -> list[str]:
    """Extra redirect URIs for ``ion_sandbox``; override it to add your site's."""
    return []


@pytest.fixture(scope="session")
def ion_sandbox(ion_sandbox_redirect_uris: list[str]) -> Iterator[IonSandbox]:
    """One Ion sandbox for the whole test session."""
    with IonSandbox(redirect_uris=ion_sandbox_redirect_uris) as sandbox:
        yield sandbox
