"""A minimal Django site wired the way the README says, for the unit tests."""

from __future__ import annotations

import os
from pathlib import Path

from ion_oauth.presets import ION_PIPELINE

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
USE_TZ = True

INSTALLED_APPS = [
    # The admin, for SOCIAL_AUTH_ION_ADMIN_LOGIN (tests/test_admin.py, testproject.pages_urls).
    "django.contrib.admin",
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

ROOT_URLCONF = "testproject.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# ION_TEST_DATABASE_URL-style switch: the PostgreSQL tests set these variables.
if os.environ.get("ION_TEST_PG_HOST"):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": os.environ["ION_TEST_PG_HOST"],
            "PORT": os.environ.get("ION_TEST_PG_PORT", "5432"),
            "NAME": os.environ.get("ION_TEST_PG_NAME", "ion_oauth"),
            "USER": os.environ.get("ION_TEST_PG_USER", "postgres"),
            "PASSWORD": os.environ.get("ION_TEST_PG_PASSWORD", ""),
        }
    }
    DATABASES["other"] = {**DATABASES["default"], "NAME": DATABASES["default"]["NAME"] + "_other"}
else:
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
        "other": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
    }
# "other" is for the tests of a site that keeps its logins apart from "default"; it is
# created only for the tests that ask for it.

AUTHENTICATION_BACKENDS = [
    "ion_oauth.oauth.IonOauth2",
    "django.contrib.auth.backends.ModelBackend",
]
SOCIAL_AUTH_ION_KEY = "test-client-id"
SOCIAL_AUTH_ION_SECRET = "test-client-secret"
SOCIAL_AUTH_ION_BASE_URL = "https://ion.example.test"
SOCIAL_AUTH_JSONFIELD_ENABLED = True
SOCIAL_AUTH_PIPELINE = ION_PIPELINE
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGIN_ERROR_URL = "/login-error/"

# pytest-django's live server serves static files and fails without it.
STATIC_URL = "/static/"

DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
