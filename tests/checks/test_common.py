"""ion_oauth.checks.common: what the check modules read."""

from __future__ import annotations

import pytest

from ion_oauth.checks.common import base_url
from ion_oauth.conf import DEFAULTS


@pytest.mark.parametrize("oidc", [False, True])
def test_base_url_is_the_real_ion_when_nothing_is_set(settings, oidc):
    del settings.SOCIAL_AUTH_ION_BASE_URL

    assert base_url(oidc=oidc) == DEFAULTS["BASE_URL"]


def test_the_oidc_backend_shares_the_oauth2_base_url_unless_given_its_own(settings):
    settings.SOCIAL_AUTH_ION_BASE_URL = "https://ion.example.test/"

    assert base_url(oidc=True) == "https://ion.example.test"

    settings.SOCIAL_AUTH_ION_OIDC_BASE_URL = "https://oidc.example.test"

    assert (base_url(oidc=False), base_url(oidc=True)) == (
        "https://ion.example.test",
        "https://oidc.example.test",
    )


def test_only_trailing_slashes_are_stripped(settings):
    settings.SOCIAL_AUTH_ION_BASE_URL = "https://example.test/TJX//"

    assert base_url(oidc=False) == "https://example.test/TJX"
