from __future__ import annotations

import pytest


@pytest.fixture
def oidc_site(settings):
    """A site that logs in with the OpenID Connect backend alone, configured."""
    settings.AUTHENTICATION_BACKENDS = ["ion_oauth.oidc.IonOpenIdConnect"]
    settings.SOCIAL_AUTH_ION_OIDC_KEY = "oidc-client"
    settings.SOCIAL_AUTH_ION_OIDC_SECRET = "oidc-secret"
    return settings
