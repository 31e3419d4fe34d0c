"""Several server processes sharing one PostgreSQL database: the refresh stays
single-flight across processes, and a login may finish on another server."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from apitest import HERE

from ion_oauth.testing import IonBrowser, IonSandbox, fetch_tokens

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

WORKER = str(HERE / "refresh_worker.py")


def store_tokens(ion: IonSandbox, env: dict[str, str], *, age: float) -> int:
    """A user whose Ion login (tokens from the sandbox) is ``age`` seconds old; its pk."""
    created = subprocess.run(
        [sys.executable, WORKER, "create", str(age)],
        input=json.dumps(fetch_tokens(ion)),
        check=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    return int(created.stdout)


def call_from_two_processes(pk: int, env: dict[str, str]) -> list[dict[str, Any]]:
    """25 calls from 8 threads in each of two processes, all let go at the same moment:
    each worker says "ready" once it has loaded its rows, and waits for "go"."""
    workers = [
        subprocess.Popen(
            [sys.executable, WORKER, "call", str(pk), "25"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for worker in workers:
        assert worker.stdout is not None
        assert worker.stdout.readline() == "ready\n", worker.communicate(timeout=120)
    results = []
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        results.append(json.loads(out))
    return results


def refreshes(ion: IonSandbox) -> int:
    return int(ion.stats()["token_requests"].get("refresh_token", 0))


def test_two_processes_on_a_token_ion_rejects_refresh_it_exactly_once(
    ion: IonSandbox, pg_site: dict[str, str]
) -> None:
    pk = store_tokens(ion, pg_site, age=0)
    ion.expire_tokens()
    ion.reset_stats()

    results = call_from_two_processes(pk, pg_site)

    assert results == [{"ok": 25, "errors": []}, {"ok": 25, "errors": []}]
    assert refreshes(ion) == 1


def test_two_processes_on_an_expired_token_refresh_it_exactly_once(
    ion: IonSandbox, pg_site: dict[str, str]
) -> None:
    pk = store_tokens(ion, pg_site, age=36000)
    ion.reset_stats()

    results = call_from_two_processes(pk, pg_site)

    assert results == [{"ok": 25, "errors": []}, {"ok": 25, "errors": []}]
    assert refreshes(ion) == 1
    assert ion.stats()["profile_requests"] == 50


# -- a login across two servers ------------------------------------------------------


def begin_login(http: requests.Session, server: Any, next_url: str) -> str:
    """Press "Log in with Ion" on ``server`` and go through Ion; return Ion's callback URL."""
    browser = IonBrowser(http)
    return browser.authorize(browser.begin(server.url, next_url=next_url))


def test_a_login_begun_on_one_server_completes_on_another(
    ion: IonSandbox, two_servers: tuple[Any, Any]
) -> None:
    """Behind a load balancer both servers get the public host name, so both build the
    same redirect URI, and the session (in the shared database) carries the state."""
    a, b = two_servers
    http = requests.Session()
    callback = urlsplit(begin_login(http, a, "/ion-profile/"))
    assert callback.netloc == urlsplit(a.url).netloc

    done = http.get(
        f"{b.url}{callback.path}?{callback.query}",
        headers={"Host": callback.netloc},
        allow_redirects=False,
        timeout=30,
    )

    assert done.status_code == 302, done.text[:2000]
    assert done.headers["Location"] == "/ion-profile/"
    assert http.get(f"{b.url}/ion-profile/", timeout=30).json()["ion_username"] == "2027jdoe"
    assert http.get(f"{a.url}/", timeout=30).text == "home: 2027jdoe"


def test_a_callback_reaching_a_server_under_another_host_name_fails(
    ion: IonSandbox, two_servers: tuple[Any, Any]
) -> None:
    """Ion requires the token request's redirect_uri to equal the authorize request's:
    servers that build it from different host names cannot finish each other's logins."""
    a, b = two_servers
    http = requests.Session()
    callback = urlsplit(begin_login(http, a, "/ion-profile/"))

    done = http.get(f"{b.url}{callback.path}?{callback.query}", allow_redirects=False, timeout=30)

    assert done.status_code == 302
    assert done.headers["Location"] == "/login-error/"
    assert http.get(f"{b.url}/", timeout=30).text == "home: anonymous"


def test_a_refresh_inside_a_transaction_that_rolls_back_keeps_the_new_tokens(
    ion: IonSandbox, pg_site: dict[str, str]
) -> None:
    """Guards against ATOMIC_REQUESTS: the view fails, its transaction rolls back, and the
    row returns to the refresh token Ion already revoked, logging the user out of Ion."""
    pk = store_tokens(ion, pg_site, age=0)
    ion.expire_tokens()

    result = subprocess.run(
        [sys.executable, WORKER, "rollback", str(pk)],
        check=True,
        capture_output=True,
        text=True,
        env=pg_site,
        timeout=120,
    )
    outcome = json.loads(result.stdout)

    assert outcome["after"] != outcome["before"]
    assert outcome["refreshes"] is True
