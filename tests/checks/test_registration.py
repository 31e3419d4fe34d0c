"""ion_oauth.checks: adding ``ion_oauth`` to INSTALLED_APPS registers every check, with its
tags, and ``manage.py check`` runs each module's checks."""

from __future__ import annotations

import pytest
from check_messages import RUNS_SYSTEM_CHECKS
from django.core.checks.registry import registry
from django.core.management import call_command
from django.core.management.base import SystemCheckError

import ion_oauth.checks
from ion_oauth.checks import cookies, pipeline, security, site
from ion_oauth.checks import settings as settings_checks

TAGS = {
    "check_settings": {"security", "compatibility"},
    "check_roles": {"security"},
    "check_oidc": {"security", "compatibility"},
    "check_oidc_client": {"security"},
    "check_pipeline": {"security"},
    "check_pipeline_order": {"security"},
    "check_oidc_pipeline": {"security"},
    "check_associate_oauth2_user": {"security"},
    "check_backend_paths": {"compatibility"},
    "check_urls": {"urls"},
    "check_middleware": {"compatibility"},
    "check_debug_errors": {"security"},
    "check_sandbox_credentials": {"security"},
    "check_production": {"security"},
    "check_redirects": {"security"},
    "check_cookies": {"security", "compatibility"},
}


def test_each_check_is_registered_with_its_tags():
    registered = {
        check.__name__: set(check.tags)
        for check in registry.get_checks()
        if check.__module__.startswith("ion_oauth.")
    }

    assert registered == TAGS


def test_every_check_function_of_the_package_is_registered():
    """Guards against a check written in a module but never run by ``manage.py check``."""
    defined = {
        name
        for module in (cookies, pipeline, security, settings_checks, site)
        for name in vars(module)
        if name.startswith("check_")
        and callable(getattr(module, name))
        and getattr(module, name).__module__ == module.__name__
    }

    assert defined == set(TAGS)
    assert all(getattr(ion_oauth.checks, name) in registry.get_checks() for name in TAGS)


@RUNS_SYSTEM_CHECKS
@pytest.mark.parametrize(
    ("overrides", "check_id"),
    [
        ({"SOCIAL_AUTH_ION_KEY": ""}, "ion_oauth.E002"),
        (
            {"SOCIAL_AUTH_PIPELINE": ["social_core.pipeline.social_auth.social_uid"]},
            "ion_oauth.E009",
        ),
        ({"MIDDLEWARE": []}, "ion_oauth.E015"),
        ({"SOCIAL_AUTH_ION_SECRET": "ion-sandbox-secret"}, "ion_oauth.E021"),
        ({"SESSION_COOKIE_SAMESITE": "Strict"}, "ion_oauth.E030"),
    ],
    ids=["settings", "pipeline", "site", "security", "cookies"],
)
def test_manage_py_check_runs_each_modules_checks(settings, overrides, check_id):
    for name, value in overrides.items():
        setattr(settings, name, value)

    with pytest.raises(SystemCheckError) as caught:
        call_command("check")

    assert check_id in str(caught.value)
