"""System checks (``manage.py check``) for a site that logs in with Ion, one module per
concern:

- :mod:`~ion_oauth.checks.settings`: the Ion settings (backends, client ids and secrets,
  base URLs, timeouts, scopes, roles, the OpenID Connect group map);
- :mod:`~ion_oauth.checks.pipeline`: the pipelines social-auth runs for Ion logins;
- :mod:`~ion_oauth.checks.site`: URLs, middleware and backend paths around the backends;
- :mod:`~ion_oauth.checks.security`: sandbox credentials and a loopback Ion where the real
  one is meant, and open redirects;
- :mod:`~ion_oauth.checks.cookies`: the session cookie a login needs.

Ids are stable and listed in the documentation's "System checks" page (docs/checks.md,
generated from these modules); each message names the setting to change. Importing this
package (``apps.py`` does) registers every check.
"""

from __future__ import annotations

from django.core.checks import Tags, register

from ion_oauth.checks.cookies import check_cookies
from ion_oauth.checks.pipeline import (
    check_associate_oauth2_user,
    check_oidc_pipeline,
    check_pipeline,
    check_pipeline_order,
)
from ion_oauth.checks.security import check_production, check_redirects, check_sandbox_credentials
from ion_oauth.checks.settings import check_oidc, check_oidc_client, check_roles, check_settings
from ion_oauth.checks.site import (
    check_backend_paths,
    check_debug_errors,
    check_middleware,
    check_urls,
)

# Registered here rather than with @register, so that each check stays a plain function
# that mutation testing (tox -e mutation) can reach.
register(check_settings, Tags.security, Tags.compatibility)
register(check_roles, Tags.security)
register(check_oidc, Tags.security, Tags.compatibility)
register(check_oidc_client, Tags.security)
register(check_pipeline, Tags.security)
register(check_pipeline_order, Tags.security)
register(check_oidc_pipeline, Tags.security)
register(check_associate_oauth2_user, Tags.security)
register(check_backend_paths, Tags.compatibility)
register(check_urls, Tags.urls)
register(check_middleware, Tags.compatibility)
register(check_debug_errors, Tags.security)
register(check_sandbox_credentials, Tags.security)
register(check_production, Tags.security)
register(check_redirects, Tags.security)
register(check_cookies, Tags.security, Tags.compatibility)
