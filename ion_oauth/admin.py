"""With ``SOCIAL_AUTH_ION_ADMIN_LOGIN = True``, the Django admin's login page offers
"Log in with Ion" under its own form. Imported by the admin's autodiscovery at startup.

Staff still need ``is_staff`` to get in: set ``SOCIAL_AUTH_ION_STAFF_ROLES`` to let it follow
Ion roles, or grant it by hand.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin import AdminSite

from ion_oauth.conf import ion_settings

LOGIN_TEMPLATE = "ion_oauth/admin/login.html"


def offer_ion_login(site: AdminSite) -> None:
    """Give ``site`` the login page with the Ion button, unless it has a template of its own."""
    if site.login_template is None:
        site.login_template = LOGIN_TEMPLATE


if ion_settings.ADMIN_LOGIN:
    offer_ion_login(admin.site)
