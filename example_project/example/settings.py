"""Settings of the example site: everything "Log in with Ion" needs, and little else.

Out of the box it talks to the local Ion sandbox (``python -m ion_oauth.sandbox``); point
it at another Ion with the environment variables ``ION_BASE_URL``, ``ION_CLIENT_ID`` and
``ION_CLIENT_SECRET``.
"""

from __future__ import annotations

import os
from pathlib import Path

import django

from ion_oauth.presets import ION_OIDC_PIPELINE, ION_PIPELINE

BASE_DIR = Path(__file__).resolve().parent.parent

# A local demo: never deploy these two lines.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-secret")
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "social_django",
    "ion_oauth",
    "example",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Turns a failed login (Cancel on Ion, a wrong secret...) into a message shown
    # on LOGIN_ERROR_URL instead of a server error.
    "social_django.middleware.SocialAuthExceptionMiddleware",
]

ROOT_URLCONF = "example.urls"
WSGI_APPLICATION = "example.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
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

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("EXAMPLE_DATABASE", BASE_DIR / "db.sqlite3"),
        # Many people logging in at once write sessions at once: wait for SQLite's lock
        # instead of failing with "database is locked".
        "OPTIONS": {"timeout": 20},
    }
}
if django.VERSION >= (5, 1):
    # Take the write lock when a transaction starts, so it cannot fail halfway.
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True

# Cookies ignore ports: a development Ion on this same host (127.0.0.1:8080) that uses
# Django's default cookie names would overwrite this site's session in the middle of a
# login ("session unavailable"). Names of our own keep the two apart.
SESSION_COOKIE_NAME = "example_sessionid"
CSRF_COOKIE_NAME = "example_csrftoken"

# -- Log in with Ion ---------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "ion_oauth.oauth.IonOauth2",
    # OpenID Connect, for an application registered on Ion with OIDC enabled; a site
    # needs only one of the two, the example shows both.
    "ion_oauth.oidc.IonOpenIdConnect",
    "django.contrib.auth.backends.ModelBackend",
]
SOCIAL_AUTH_ION_KEY = os.environ.get("ION_CLIENT_ID", "ion-sandbox-client")
SOCIAL_AUTH_ION_SECRET = os.environ.get("ION_CLIENT_SECRET", "ion-sandbox-secret")
SOCIAL_AUTH_ION_BASE_URL = os.environ.get("ION_BASE_URL", "http://127.0.0.1:8080")
# The eighth-period page signs people up: Ion checks no scope today, but asking for
# "write" keeps the page working if it starts to.
SOCIAL_AUTH_ION_SCOPE = ["write"]
SOCIAL_AUTH_ION_OIDC_KEY = os.environ.get("ION_OIDC_CLIENT_ID", "ion-sandbox-oidc")
SOCIAL_AUTH_ION_OIDC_SECRET = os.environ.get("ION_OIDC_CLIENT_SECRET", "ion-sandbox-oidc-secret")
SOCIAL_AUTH_JSONFIELD_ENABLED = True
# The pipelines the documentation recommends (docs/pipeline.md, docs/oidc.md): OpenID
# Connect logins run their own, with Ion groups in place of roles.
SOCIAL_AUTH_PIPELINE = ION_PIPELINE
SOCIAL_AUTH_ION_OIDC_PIPELINE = ION_OIDC_PIPELINE
# With DEBUG on, social-auth would raise login errors as debug pages; show them to the
# person as messages on LOGIN_ERROR_URL, as in production.
SOCIAL_AUTH_RAISE_EXCEPTIONS = False

LOGIN_URL = "/"  # the home page has both login buttons
LOGIN_REDIRECT_URL = "/"
LOGIN_ERROR_URL = "/login-error/"  # ion-oauth's page, from ion_oauth.urls
LOGOUT_REDIRECT_URL = "/"
# ion-oauth's pages (login error) extend this site's base template, so they look alike.
SOCIAL_AUTH_ION_BASE_TEMPLATE = "example/base.html"
