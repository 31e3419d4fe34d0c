"""Ready-made settings values. Plain data: ``settings.py`` may import this module before
Django is set up (it imports nothing from Django or social-auth).

    from ion_oauth.presets import ION_PIPELINE
    SOCIAL_AUTH_PIPELINE = ION_PIPELINE
"""

from __future__ import annotations

#: social-auth's default pipeline without e-mail association (an account takeover risk with
#: Ion, see check W004), then names, e-mail and role/class groups kept in step with Ion.
ION_PIPELINE: tuple[str, ...] = (
    "social_core.pipeline.social_auth.social_details",
    "social_core.pipeline.social_auth.social_uid",
    "social_core.pipeline.social_auth.auth_allowed",
    "social_core.pipeline.social_auth.social_user",
    "social_core.pipeline.user.get_username",
    "social_core.pipeline.user.create_user",
    "social_core.pipeline.social_auth.associate_user",
    "social_core.pipeline.social_auth.load_extra_data",
    "ion_oauth.pipeline.sync_profile",
    "ion_oauth.pipeline.sync_roles",
)

#: The pipeline for a site that logs in with OpenID Connect (``IonOpenIdConnect``): the ID
#: token carries no role flags, so Ion groups become Django groups instead.
ION_OIDC_PIPELINE: tuple[str, ...] = (
    *ION_PIPELINE[:-1],
    "ion_oauth.pipeline.sync_oidc_groups",
)
