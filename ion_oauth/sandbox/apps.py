"""Django app config of the Ion sandbox."""

from __future__ import annotations

from django.apps import AppConfig


class IonSandboxConfig(AppConfig):
    name = "ion_oauth.sandbox"
    label = "ion_sandbox"
    verbose_name = "Ion sandbox"
    default_auto_field = "django.db.models.AutoField"
