"""A site's own subclass of social-auth's exception middleware (check ion_oauth.E015)."""

from __future__ import annotations

from social_django.middleware import SocialAuthExceptionMiddleware


class SiteExceptionMiddleware(SocialAuthExceptionMiddleware):
    pass
