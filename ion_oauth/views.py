"""The views a site wires into its URLconf: logging out at Ion."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import logout as auth_logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.views.decorators.http import require_POST

from ion_oauth.exceptions import IonAuthError
from ion_oauth.oidc import IonOpenIdConnect

logger = logging.getLogger("ion_oauth")


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """Log out here, then at Ion, and come back to ``LOGOUT_REDIRECT_URL``.

    POST only, so another site cannot log a user out with a link. A user who did not log
    in with ``ion-oidc``, or an Ion that cannot be reached, still gets logged out here.
    """
    # Imported here: social_django.utils reads settings when it is imported.
    from social_django.utils import load_strategy

    local_url = resolve_url(getattr(settings, "LOGOUT_REDIRECT_URL", None) or "/")
    target = local_url
    if request.user.is_authenticated:
        backend = IonOpenIdConnect(load_strategy(request))  # type: ignore[no-untyped-call]
        id_token = backend.latest_id_token(request.user)
        if id_token:
            # Unset: come back here. "": send none, for an application on Ion without a
            # registered post-logout URI (Ion refuses an unregistered one with a 400 page).
            after = backend.setting("POST_LOGOUT_REDIRECT_URI")
            if after is None:
                after = request.build_absolute_uri(local_url)
            try:
                target = backend.end_session_url(id_token, after or None) or local_url
            except IonAuthError:
                logger.warning("Could not reach Ion to end its session; logged out here only")
    auth_logout(request)
    return HttpResponseRedirect(target)
