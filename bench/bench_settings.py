"""Django settings of the benchmark's in-process site: both backends, one fake provider each.

Ion and GitLab are answered in-process by ``responses`` (see :mod:`bench_inprocess`), so these
base URLs are never contacted. The database is a SQLite file (``ION_BENCH_DB``, set by
``run.py`` to a temporary path) so the threads of the refresh benchmark share it.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _recommended_pipeline() -> list[str]:
    """The pipeline the README recommends, as the unit-test site spells it out."""
    spec = importlib.util.spec_from_file_location(
        "_testproject_settings", REPO / "tests" / "testproject" / "settings.py"
    )
    if spec is None or spec.loader is None:
        raise ImportError("tests/testproject/settings.py is missing")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.SOCIAL_AUTH_PIPELINE)


SECRET_KEY = "bench-only-not-secret"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "social_django",
    "ion_oauth",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "social_django.middleware.SocialAuthExceptionMiddleware",
]
ROOT_URLCONF = "bench_urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.contrib.messages.context_processors.messages"]},
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("ION_BENCH_DB", ":memory:"),
        "OPTIONS": {"timeout": 30},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

SOCIAL_AUTH_JSONFIELD_ENABLED = True
SOCIAL_AUTH_PIPELINE = _recommended_pipeline()
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGIN_ERROR_URL = "/login-error/"
