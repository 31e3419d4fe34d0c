"""Settings for mypy's Django plugin: the test site plus the sandbox's apps.

The sandbox is a separate Django project at run time; for type checking, one settings module
must know every model in the package.
"""

from __future__ import annotations

from testproject.settings import *  # noqa: F403
from testproject.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "oauth2_provider", "ion_oauth.sandbox"]
