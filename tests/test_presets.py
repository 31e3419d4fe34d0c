"""ion_oauth.presets: importable from settings.py before Django is set up."""

from __future__ import annotations

import subprocess
import sys

from check_messages import RUNS_SYSTEM_CHECKS
from django.core.checks import run_checks
from django.test import override_settings

from ion_oauth.presets import ION_OIDC_PIPELINE, ION_PIPELINE


def test_importing_the_presets_loads_neither_django_nor_social_auth(tmp_path):
    code = (
        "import sys, ion_oauth.presets; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'social_core', 'social_django')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=tmp_path,  # the installed package, not a source tree in the working directory
    )

    assert result.stdout == "[]\n"


def test_every_step_imports():
    from django.utils.module_loading import import_string

    for step in {*ION_PIPELINE, *ION_OIDC_PIPELINE}:
        assert callable(import_string(step)), step


@override_settings(SOCIAL_AUTH_PIPELINE=ION_PIPELINE)
@RUNS_SYSTEM_CHECKS
def test_the_oauth2_pipeline_passes_the_pipeline_checks():
    assert [m.id for m in run_checks() if m.id.startswith("ion_oauth")] == []


@override_settings(
    SOCIAL_AUTH_PIPELINE=ION_OIDC_PIPELINE,
    AUTHENTICATION_BACKENDS=["ion_oauth.oidc.IonOpenIdConnect"],
    SOCIAL_AUTH_ION_OIDC_KEY="k",
    SOCIAL_AUTH_ION_OIDC_SECRET="s",
)
@RUNS_SYSTEM_CHECKS
def test_the_oidc_pipeline_passes_the_pipeline_checks():
    assert [m.id for m in run_checks() if m.id.startswith("ion_oauth")] == []
