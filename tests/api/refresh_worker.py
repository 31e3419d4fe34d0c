"""One server process of the cross-process refresh test (run by test_api_postgres.py).

``refresh_worker.py create AGE`` reads Ion tokens (JSON) from stdin, stores them for a new
user as a login would, AGE seconds old, and prints the row's pk.
``refresh_worker.py call PK CALLS`` loads the row once per call (like separate web
requests), prints "ready", waits for a "go" line on stdin, makes CALLS API calls from 8
threads and prints {"ok": n, "errors": [...]}.
``refresh_worker.py rollback PK`` makes one API call (which refreshes) inside a transaction
that then rolls back, as a failing view under ATOMIC_REQUESTS does, and prints the refresh
token stored before and after, and whether the stored one still refreshes.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import django

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from social_django.models import UserSocialAuth  # noqa: E402

from ion_oauth.api import IonClient  # noqa: E402


def create(age: float) -> None:
    tokens = json.load(sys.stdin)
    user = User.objects.create_user("2027jdoe")
    social = UserSocialAuth.objects.create(
        user=user,
        provider="ion",
        uid="1",
        extra_data={
            "auth_time": int(time.time() - age),
            "access_token": tokens["access_token"],
            "refresh_token": tokens["refresh_token"],
            "expires": tokens["expires_in"],
            "scope": tokens["scope"],
        },
    )
    print(social.pk)


def call(pk: int, calls: int) -> None:
    socials = [UserSocialAuth.objects.get(pk=pk) for _ in range(calls)]
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        sys.exit("the test did not say go")

    def one(social: UserSocialAuth) -> str | None:
        try:
            IonClient.for_social(social).get("profile")
        except Exception as error:  # reported to the test, which asserts there are none
            return repr(error)
        return None

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, socials))
    errors = [r for r in results if r is not None]
    print(json.dumps({"ok": len(results) - len(errors), "errors": errors}))


class ViewFailed(Exception):
    """What the view raises after its API call, rolling its transaction back."""


def rollback(pk: int) -> None:
    from django.db import transaction
    from social_django.utils import load_strategy

    before = UserSocialAuth.objects.get(pk=pk).extra_data["refresh_token"]
    try:
        with transaction.atomic():
            IonClient.for_social(UserSocialAuth.objects.get(pk=pk)).get("profile")
            raise ViewFailed
    except ViewFailed:
        pass
    row = UserSocialAuth.objects.get(pk=pk)
    after = row.extra_data["refresh_token"]
    try:
        row.refresh_token(load_strategy())
        refreshes = True
    except Exception:  # the revoked refresh token: IonLoginRequired
        refreshes = False
    print(json.dumps({"before": before, "after": after, "refreshes": refreshes}))


if __name__ == "__main__":
    if sys.argv[1] == "create":
        create(float(sys.argv[2]))
    elif sys.argv[1] == "rollback":
        rollback(int(sys.argv[2]))
    else:
        call(int(sys.argv[2]), int(sys.argv[3]))
