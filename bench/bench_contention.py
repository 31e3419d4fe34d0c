"""Token refresh under contention: many API calls at once on an access token Ion has just
expired, through :class:`ion_oauth.api.IonClient`, against the live sandbox.

Two ways a site holds a client: one client shared by every thread (``from_token``, a
script or a worker), and a client per request (``for_user``, each Django request reads
the user's ``UserSocialAuth`` row). Either way Ion must see exactly one refresh: it
rotates refresh tokens, so a second refresh of the same one would log the user out.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections
from django.test import override_settings
from social_django.models import UserSocialAuth

from ion_oauth.api import IonClient
from ion_oauth.testing import IonSandbox, fetch_tokens

#: The sandbox person whose token the calls use (one of the benchmark's students).
PERSON = 101


def hammer(call: Callable[[], object], *, calls: int, threads: int) -> list[str]:
    """Make ``calls`` calls from ``threads`` threads started together; the errors."""
    lock = threading.Lock()
    remaining = [calls]
    errors: list[str] = []
    barrier = threading.Barrier(threads)

    def worker() -> None:
        barrier.wait()
        try:
            while True:
                with lock:
                    if remaining[0] == 0:
                        return
                    remaining[0] -= 1
                try:
                    call()
                except Exception as error:  # every failure is an error to count
                    with lock:
                        errors.append(f"{type(error).__name__}: {error}")
        finally:
            connections.close_all()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return errors


def measured(
    ion: IonSandbox, call: Callable[[], object], *, calls: int, threads: int
) -> dict[str, Any]:
    """Expire every token at Ion, then make the calls; what Ion saw."""
    ion.expire_tokens()
    ion.reset_stats()
    errors = hammer(call, calls=calls, threads=threads)
    stats = ion.stats()
    return {
        "calls": calls,
        "threads": threads,
        "refresh_requests": stats["token_requests"]["refresh_token"],
        "profile_requests": stats["profile_requests"],
        "errors": len(errors),
        "error_causes": dict(Counter(errors).most_common(10)),
    }


def shared_client(
    ion: IonSandbox, token: dict[str, Any], *, calls: int, threads: int
) -> dict[str, Any]:
    """One ``IonClient.from_token`` shared by every thread."""
    saved: list[dict[str, Any]] = []
    client = IonClient.from_token(
        token,
        client_id=ion.client_id,
        client_secret=ion.client_secret,
        on_token=saved.append,
        base_url=ion.url,
    )
    client.get("profile")
    result = measured(ion, lambda: client.get("profile"), calls=calls, threads=threads)
    result["tokens_saved"] = len(saved)
    return result


def client_per_request(
    ion: IonSandbox, token: dict[str, Any], *, calls: int, threads: int
) -> dict[str, Any]:
    """``IonClient.for_user(user)`` per call, as each request of a Django site builds it,
    with the tokens in a ``UserSocialAuth`` row of the benchmark's database."""
    user = get_user_model().objects.create(username="bench-refresh")
    social = UserSocialAuth.objects.create(
        user=user,
        provider="ion",
        uid=str(PERSON),
        extra_data={
            "access_token": token["access_token"],
            "refresh_token": token["refresh_token"],
            "expires": token["expires_in"],
            "auth_time": int(time.time()),
            "token_type": "Bearer",
        },
    )
    with override_settings(
        AUTHENTICATION_BACKENDS=["ion_oauth.oauth.IonOauth2"],
        SOCIAL_AUTH_ION_KEY=ion.client_id,
        SOCIAL_AUTH_ION_SECRET=ion.client_secret,
        SOCIAL_AUTH_ION_BASE_URL=ion.url,
    ):
        IonClient.for_user(user).get("profile")

        def call() -> object:
            fresh = get_user_model().objects.get(pk=user.pk)
            return IonClient.for_user(fresh).get("profile")

        result = measured(ion, call, calls=calls, threads=threads)
    social.refresh_from_db()
    result["token_rotated"] = social.extra_data["refresh_token"] != token["refresh_token"]
    return result


def run(ion: IonSandbox, site_url: str, *, calls: int, threads: int) -> dict[str, Any]:
    """Both ways, each with a token of its own fresh from the sandbox."""

    def token() -> dict[str, Any]:
        return fetch_tokens(ion, username=PERSON, redirect_uri=f"{site_url}/complete/ion/")

    return {
        "shared_client": shared_client(ion, token(), calls=calls, threads=threads),
        "client_per_request": client_per_request(ion, token(), calls=calls, threads=threads),
    }
