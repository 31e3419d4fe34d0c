"""System checks of the pipelines social-auth runs for Ion logins: the steps a login
needs, steps that put accounts at risk, and where ``associate_oauth2_user`` goes.
Ids E009, E023, W003, W004, W006, W010 and W012.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.checks import CheckMessage, Error, Warning

from ion_oauth.checks.common import (
    OIDC_BACKEND,
    REQUIRED_STEPS,
    backends,
    base_url,
    oidc_pipeline,
    pipeline,
)

ASSOCIATE_BY_EMAIL = "social_core.pipeline.social_auth.associate_by_email"
ASSOCIATE_OAUTH2_USER = "ion_oauth.pipeline.associate_oauth2_user"


def check_pipeline(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """A custom SOCIAL_AUTH_PIPELINE must still link and store an Ion login safely."""
    steps = pipeline()
    if steps is None:
        return []
    errors = _steps_and_email(
        "SOCIAL_AUTH_PIPELINE",
        steps,
        preset="ION_PIPELINE",
        page="docs/pipeline.md",
        missing_id="ion_oauth.E009",
        email_id="ion_oauth.W004",
    )
    if "social_core.pipeline.social_auth.load_extra_data" not in steps:
        errors.append(
            Warning(
                "SOCIAL_AUTH_PIPELINE lacks load_extra_data, so Ion tokens are not stored "
                "and API calls and token refresh cannot work.",
                hint="Add 'social_core.pipeline.social_auth.load_extra_data' after associate_user.",
                id="ion_oauth.W003",
            )
        )
    return errors


def _steps_and_email(
    name: str, steps: Sequence[str], *, preset: str, page: str, missing_id: str, email_id: str
) -> list[CheckMessage]:
    """What both pipelines are checked for: the steps a login needs, and no step that hands
    an Ion login to whichever account shares its email address."""
    errors: list[CheckMessage] = []
    missing = [step for step in REQUIRED_STEPS if step not in steps]
    if missing:
        errors.append(
            Error(
                f"{name} lacks steps an Ion login needs: " + ", ".join(missing) + ".",
                hint=f"Start from ion_oauth.presets.{preset} (see the ion-oauth "
                f"documentation, {page}).",
                id=missing_id,
            )
        )
    if ASSOCIATE_BY_EMAIL in steps:
        errors.append(
            Warning(
                f"{name} contains associate_by_email: an Ion login would be attached to any "
                "existing account with the same email address.",
                hint="Remove associate_by_email unless every account's email is verified.",
                id=email_id,
            )
        )
    return errors


def check_pipeline_order(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """With the OpenID Connect backend, ``associate_oauth2_user`` must come where it links."""
    if OIDC_BACKEND not in backends():
        return []
    errors: list[CheckMessage] = []
    steps = pipeline() or []
    step = ASSOCIATE_OAUTH2_USER
    after, before = (
        "social_core.pipeline.social_auth.social_user",
        "social_core.pipeline.user.create_user",
    )
    if step in steps and not (
        after in steps
        and steps.index(after) < steps.index(step)
        and (before not in steps or steps.index(step) < steps.index(before))
    ):
        errors.append(
            Warning(
                f"SOCIAL_AUTH_PIPELINE has {step} in the wrong place: it must come after "
                "social_user and before create_user, or it links nobody.",
                hint=f"Put '{step}' right after '{after}'.",
                id="ion_oauth.W006",
            )
        )
    return errors


def check_oidc_pipeline(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """``SOCIAL_AUTH_ION_OIDC_PIPELINE``, which social-auth uses for ``ion-oidc`` logins."""
    steps = oidc_pipeline()
    if steps is None or OIDC_BACKEND not in backends():
        return []
    return _steps_and_email(
        "SOCIAL_AUTH_ION_OIDC_PIPELINE",
        steps,
        preset="ION_OIDC_PIPELINE",
        page="docs/oidc.md",
        missing_id="ion_oauth.E023",
        email_id="ion_oauth.W010",
    )


def check_associate_oauth2_user(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """``associate_oauth2_user`` links only logins of the same Ion."""
    pipelines = [pipeline() or [], oidc_pipeline() or []]
    if not any(ASSOCIATE_OAUTH2_USER in steps for steps in pipelines):
        return []
    oauth2, oidc = base_url(oidc=False), base_url(oidc=True)
    if oauth2 == oidc:
        return []
    return [
        Warning(
            f"{ASSOCIATE_OAUTH2_USER} is in the pipeline, but the OpenID Connect backend uses "
            f"another Ion ({oidc}) than the OAuth2 backend ({oauth2}), so it links nobody: "
            "the same id there is another person.",
            hint="Point SOCIAL_AUTH_ION_OIDC_BASE_URL at the same Ion as "
            "SOCIAL_AUTH_ION_BASE_URL, or remove the step.",
            id="ion_oauth.W012",
        )
    ]
