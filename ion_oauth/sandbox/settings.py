"""Django settings of the Ion sandbox: its own small project, configured like Ion.

``python -m ion_oauth.sandbox`` sets ``ION_SANDBOX_DATA_DIR`` (an absolute path, with the
RSA key already made) before Django reads this module.
"""

from __future__ import annotations

import os
from pathlib import Path

from ion_oauth.sandbox.keys import KEY_FILE, ensure_secret_key
from ion_oauth.sandbox.network import allowed_hosts

DATA_DIR = Path(os.environ.get("ION_SANDBOX_DATA_DIR", ".ion-sandbox")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = ensure_secret_key(DATA_DIR)
DEBUG = False
ALLOWED_HOSTS = allowed_hosts(os.environ.get("ION_SANDBOX_HOST", "127.0.0.1"))
USE_TZ = True
TIME_ZONE = "UTC"
# Behind a TLS-terminating proxy, as Ion is (the benchmark's simulated distance): URLs the
# sandbox publishes (issuer, endpoints) are https:// as the proxy says.
if os.environ.get("ION_SANDBOX_BEHIND_TLS_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
    "ion_oauth.sandbox",
]

MIDDLEWARE = [
    # Sets Content-Length, without which the server closes every connection: clients
    # that keep connections alive (as with Ion behind its proxy) can reuse them.
    "django.middleware.common.CommonMiddleware",
    "ion_oauth.sandbox.middleware.SameOriginMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Ion's pages may not be framed by another site (clickjacking the consent page).
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
X_FRAME_OPTIONS = "DENY"

ROOT_URLCONF = "ion_oauth.sandbox.urls"
# Each endpoint answers with and without its trailing slash itself; a redirect would turn
# a POST into a GET.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csrf",
            ]
        },
    }
]

DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "sandbox.sqlite3"}
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

# Cookies ignore ports: with Django's default names the sandbox on :8080 and the site on
# :8000 would overwrite each other's session and CSRF cookies.
SESSION_COOKIE_NAME = "ion_sandbox_sessionid"
CSRF_COOKIE_NAME = "ion_sandbox_csrftoken"

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django.server": {"handlers": ["stderr"], "level": "INFO", "propagate": False}},
}

OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": 36000,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 30 * 24 * 3600,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "SCOPES": {
        "read": "Read basic information about you, such as your name and grade",
        "write": "Act on your behalf",
        "openid": "Confirm who you are",
        "profile": "Your name and username",
        "email": "Your email address",
        "groups": "The Ion groups you are in",
    },
    "DEFAULT_SCOPES": ["read"],
    "PKCE_REQUIRED": False,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"],
    "REQUEST_APPROVAL_PROMPT": "force",
    "OIDC_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": (
        (DATA_DIR / KEY_FILE).read_text() if (DATA_DIR / KEY_FILE).exists() else ""
    ),
    "OAUTH2_VALIDATOR_CLASS": "ion_oauth.sandbox.oidc.IonValidator",
}
