"""ion_oauth.checks.pipeline: one test per check id, each failing and passing, and every
message word for word."""

from __future__ import annotations

import pytest
from check_messages import ERROR, WARNING, Pinned, assert_word_for_word

from ion_oauth.checks.pipeline import (
    check_associate_oauth2_user,
    check_oidc_pipeline,
    check_pipeline,
    check_pipeline_order,
)

PIPELINE = [
    "social_core.pipeline.social_auth.social_details",
    "social_core.pipeline.social_auth.social_uid",
    "social_core.pipeline.social_auth.auth_allowed",
    "social_core.pipeline.social_auth.social_user",
    "social_core.pipeline.user.get_username",
    "social_core.pipeline.user.create_user",
    "social_core.pipeline.social_auth.associate_user",
    "social_core.pipeline.social_auth.load_extra_data",
]
BOTH = ["ion_oauth.oauth.IonOauth2", "ion_oauth.oidc.IonOpenIdConnect"]
OIDC = {
    "AUTHENTICATION_BACKENDS": ["ion_oauth.oidc.IonOpenIdConnect"],
    "SOCIAL_AUTH_ION_OIDC_KEY": "oidc-client",
    "SOCIAL_AUTH_ION_OIDC_SECRET": "oidc-secret",
}


def ids(messages) -> list[str]:
    return [m.id for m in messages]


def every_check() -> list:
    return (
        check_pipeline()
        + check_pipeline_order()
        + check_oidc_pipeline()
        + check_associate_oauth2_user()
    )


def test_the_test_site_passes_every_check():
    assert every_check() == []


def test_e009_pipeline_without_the_steps_a_login_needs(settings):
    settings.SOCIAL_AUTH_PIPELINE = [
        s
        for s in settings.SOCIAL_AUTH_PIPELINE
        if s != "social_core.pipeline.social_auth.associate_user"
    ]

    [error] = check_pipeline()

    assert error.id == "ion_oauth.E009"
    assert "associate_user" in error.msg


def test_w003_pipeline_without_load_extra_data(settings):
    settings.SOCIAL_AUTH_PIPELINE = [
        s for s in settings.SOCIAL_AUTH_PIPELINE if not s.endswith("load_extra_data")
    ]

    assert ids(check_pipeline()) == ["ion_oauth.W003"]


def test_w004_pipeline_with_associate_by_email(settings):
    settings.SOCIAL_AUTH_PIPELINE = [
        *settings.SOCIAL_AUTH_PIPELINE,
        "social_core.pipeline.social_auth.associate_by_email",
    ]

    assert ids(check_pipeline()) == ["ion_oauth.W004"]


def test_the_ion_specific_pipeline_setting_is_checked_first(settings):
    settings.SOCIAL_AUTH_ION_PIPELINE = ["social_core.pipeline.social_auth.social_details"]

    assert ids(check_pipeline()) == ["ion_oauth.E009", "ion_oauth.W003"]


def test_social_cores_default_pipeline_needs_no_check(settings):
    del settings.SOCIAL_AUTH_PIPELINE

    assert check_pipeline() == []


# -- the OpenID Connect pipeline --------------------------------------------------------------


def test_e023_an_oidc_pipeline_without_the_steps_a_login_needs(settings):
    settings.AUTHENTICATION_BACKENDS = BOTH
    settings.SOCIAL_AUTH_ION_OIDC_PIPELINE = PIPELINE[:2]

    [error] = check_oidc_pipeline()

    assert error.id == "ion_oauth.E023"
    assert "social_details" not in error.msg
    assert error.msg.endswith(
        "social_core.pipeline.social_auth.social_user, "
        "social_core.pipeline.social_auth.associate_user."
    )


def test_w010_associate_by_email_in_the_oidc_pipeline(settings):
    """Guards against the backend-specific pipeline escaping W004."""
    settings.AUTHENTICATION_BACKENDS = BOTH
    settings.SOCIAL_AUTH_ION_OIDC_PIPELINE = [
        *PIPELINE,
        "social_core.pipeline.social_auth.associate_by_email",
    ]

    [warning] = check_oidc_pipeline()

    assert warning.id == "ion_oauth.W010"


def test_an_oidc_pipeline_is_not_checked_without_the_oidc_backend(settings):
    settings.SOCIAL_AUTH_ION_OIDC_PIPELINE = ["social_core.pipeline.social_auth.associate_by_email"]

    assert check_oidc_pipeline() == []


# -- where associate_oauth2_user goes, with and without create_user -------------------------


STEP = "ion_oauth.pipeline.associate_oauth2_user"
SOCIAL_USER = "social_core.pipeline.social_auth.social_user"
CREATE_USER = "social_core.pipeline.user.create_user"


def test_w006_associate_oauth2_user_in_the_wrong_place(oidc_site):
    oidc_site.SOCIAL_AUTH_PIPELINE = [
        "ion_oauth.pipeline.associate_oauth2_user",
        *oidc_site.SOCIAL_AUTH_PIPELINE,
    ]

    assert ids(check_pipeline_order()) == ["ion_oauth.W006"]


def test_associate_oauth2_user_right_after_social_user_passes(oidc_site):
    pipeline = list(oidc_site.SOCIAL_AUTH_PIPELINE)
    pipeline.insert(
        pipeline.index("social_core.pipeline.social_auth.social_user") + 1,
        "ion_oauth.pipeline.associate_oauth2_user",
    )
    oidc_site.SOCIAL_AUTH_PIPELINE = pipeline

    assert check_pipeline_order() == []


def pipeline_with_step(settings, *, after: str | None, create_user: bool) -> None:
    pipeline = [s for s in settings.SOCIAL_AUTH_PIPELINE if create_user or s != CREATE_USER]
    pipeline.insert(pipeline.index(after) + 1 if after else 0, STEP)
    settings.SOCIAL_AUTH_PIPELINE = pipeline


def test_associate_oauth2_user_after_social_user_without_create_user_passes(oidc_site):
    pipeline_with_step(oidc_site, after=SOCIAL_USER, create_user=False)

    assert check_pipeline_order() == []


def test_associate_oauth2_user_before_social_user_without_create_user_is_w006(oidc_site):
    pipeline_with_step(oidc_site, after=None, create_user=False)

    assert ids(check_pipeline_order()) == ["ion_oauth.W006"]


def test_associate_oauth2_user_after_create_user_is_w006(oidc_site):
    pipeline_with_step(oidc_site, after=CREATE_USER, create_user=True)

    assert ids(check_pipeline_order()) == ["ion_oauth.W006"]


def test_associate_oauth2_user_without_social_user_is_w006(oidc_site):
    oidc_site.SOCIAL_AUTH_PIPELINE = [STEP, CREATE_USER]

    assert ids(check_pipeline_order()) == ["ion_oauth.W006"]


@pytest.mark.parametrize(
    "pipeline_setting", ["SOCIAL_AUTH_PIPELINE", "SOCIAL_AUTH_ION_OIDC_PIPELINE"]
)
def test_w012_associate_oauth2_user_across_two_ions(settings, pipeline_setting):
    settings.AUTHENTICATION_BACKENDS = BOTH
    settings.SOCIAL_AUTH_ION_OIDC_BASE_URL = "https://sandbox.example.test"
    setattr(settings, pipeline_setting, [*PIPELINE, "ion_oauth.pipeline.associate_oauth2_user"])

    [warning] = check_associate_oauth2_user()

    assert warning.id == "ion_oauth.W012"
    assert "https://sandbox.example.test" in warning.msg


def test_w012_says_nothing_when_neither_pipeline_has_the_step(settings):
    settings.AUTHENTICATION_BACKENDS = BOTH
    settings.SOCIAL_AUTH_ION_OIDC_BASE_URL = "https://sandbox.example.test"
    settings.SOCIAL_AUTH_ION_OIDC_PIPELINE = PIPELINE

    assert check_associate_oauth2_user() == []


def test_associate_oauth2_user_with_one_ion_is_fine(settings):
    settings.SOCIAL_AUTH_ION_OIDC_BASE_URL = settings.SOCIAL_AUTH_ION_BASE_URL + "/"
    settings.SOCIAL_AUTH_PIPELINE = [*PIPELINE, "ion_oauth.pipeline.associate_oauth2_user"]

    assert check_associate_oauth2_user() == []


# -- every message, word for word: a site's administrator acts on these -------------------

PINNED: dict[str, Pinned] = {
    "E009": (
        check_pipeline,
        {"SOCIAL_AUTH_PIPELINE": [s for s in PIPELINE if not s.endswith(("_uid", "ate_user"))]},
        ERROR,
        "SOCIAL_AUTH_PIPELINE lacks steps an Ion login needs: "
        "social_core.pipeline.social_auth.social_uid, "
        "social_core.pipeline.social_auth.associate_user.",
        "Start from ion_oauth.presets.ION_PIPELINE (see the ion-oauth documentation, "
        "docs/pipeline.md).",
    ),
    "W003": (
        check_pipeline,
        {"SOCIAL_AUTH_PIPELINE": PIPELINE[:-1]},
        WARNING,
        "SOCIAL_AUTH_PIPELINE lacks load_extra_data, so Ion tokens are not stored and API "
        "calls and token refresh cannot work.",
        "Add 'social_core.pipeline.social_auth.load_extra_data' after associate_user.",
    ),
    "W004": (
        check_pipeline,
        {
            "SOCIAL_AUTH_PIPELINE": [
                *PIPELINE,
                "social_core.pipeline.social_auth.associate_by_email",
            ]
        },
        WARNING,
        "SOCIAL_AUTH_PIPELINE contains associate_by_email: an Ion login would be attached to "
        "any existing account with the same email address.",
        "Remove associate_by_email unless every account's email is verified.",
    ),
    "E023": (
        check_oidc_pipeline,
        {**OIDC, "SOCIAL_AUTH_ION_OIDC_PIPELINE": PIPELINE[2:]},
        ERROR,
        "SOCIAL_AUTH_ION_OIDC_PIPELINE lacks steps an Ion login needs: "
        "social_core.pipeline.social_auth.social_details, "
        "social_core.pipeline.social_auth.social_uid.",
        "Start from ion_oauth.presets.ION_OIDC_PIPELINE (see the ion-oauth documentation, "
        "docs/oidc.md).",
    ),
    "W010": (
        check_oidc_pipeline,
        {
            **OIDC,
            "SOCIAL_AUTH_ION_OIDC_PIPELINE": [
                *PIPELINE,
                "social_core.pipeline.social_auth.associate_by_email",
            ],
        },
        WARNING,
        "SOCIAL_AUTH_ION_OIDC_PIPELINE contains associate_by_email: an Ion login would be "
        "attached to any existing account with the same email address.",
        "Remove associate_by_email unless every account's email is verified.",
    ),
    "W012": (
        check_associate_oauth2_user,
        {
            "AUTHENTICATION_BACKENDS": BOTH,
            "SOCIAL_AUTH_ION_OIDC_BASE_URL": "https://sandbox.example.test/",
            "SOCIAL_AUTH_PIPELINE": [*PIPELINE, STEP],
        },
        WARNING,
        f"{STEP} is in the pipeline, but the OpenID Connect backend uses another Ion "
        "(https://sandbox.example.test) than the OAuth2 backend (https://ion.example.test), so "
        "it links nobody: the same id there is another person.",
        "Point SOCIAL_AUTH_ION_OIDC_BASE_URL at the same Ion as SOCIAL_AUTH_ION_BASE_URL, or "
        "remove the step.",
    ),
    "W006": (
        check_pipeline_order,
        {**OIDC, "SOCIAL_AUTH_PIPELINE": [STEP, *PIPELINE]},
        WARNING,
        f"SOCIAL_AUTH_PIPELINE has {STEP} in the wrong place: it must come after social_user "
        "and before create_user, or it links nobody.",
        f"Put '{STEP}' right after 'social_core.pipeline.social_auth.social_user'.",
    ),
}


@pytest.mark.parametrize("case", list(PINNED))
def test_each_message_word_for_word(settings, case):
    assert_word_for_word(settings, case, PINNED[case])
