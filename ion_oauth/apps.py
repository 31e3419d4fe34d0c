"""Django app config: adding ``ion_oauth`` to INSTALLED_APPS registers its system checks
and makes its templates (the pages of ``ion_oauth.urls``, the login button) available."""

from __future__ import annotations

from django.apps import AppConfig


class IonOauthConfig(AppConfig):
    name = "ion_oauth"
    verbose_name = "Ion OAuth"

    def ready(self) -> None:
        from ion_oauth import checks  # noqa: F401 - registers the checks
