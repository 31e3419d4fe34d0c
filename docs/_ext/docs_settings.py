"""The Django settings the documentation build imports ion-oauth under."""

SECRET_KEY = "docs-build-only"  # noqa: S105 - never serves a request
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "social_django",
    "ion_oauth",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
USE_TZ = True
