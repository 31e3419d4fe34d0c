"""OpenID Connect claims as Ion issues them (``OAUTH2_PROVIDER["OAUTH2_VALIDATOR_CLASS"]``)."""

from __future__ import annotations

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator

from ion_oauth.sandbox.models import Person


class IonValidator(OAuth2Validator):  # type: ignore[misc]  # DOT ships no type hints
    """Adds Ion's claims to ID tokens and ``/oauth/userinfo/``; ``sub`` is the Ion id."""

    # Which scope releases which claim; claims of scopes not granted are left out.
    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "groups": "groups",
        "is_sysadmin": "profile",
    }

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        """Ion's claims for the person the token belongs to.

        Taking ``request`` (rather than returning callables) keeps ``claims_supported``
        in the discovery document at ``["sub"]``, as on Ion.
        """
        user = request.user
        person = Person.objects.get(pk=user.pk)
        return {
            "given_name": person.profile["first_name"],
            "family_name": person.profile["last_name"],
            "name": person.profile["full_name"],
            "preferred_username": person.profile["ion_username"],
            "email": person.profile["tj_email"],
            "email_verified": True,
            "groups": list(person.groups),
            "is_sysadmin": person.is_sysadmin,
        }
