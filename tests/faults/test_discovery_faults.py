"""The discovery/key cache when Ion is slow or failing: no lock is held over the network.

Concurrent OpenID Connect logins against a fake Ion on loopback. Guards against the cache
lock being held while Ion is asked, which queued every OIDC login in the process behind
one slow fetch (six logins against an Ion taking 2 s to answer 503 took 12.8 s).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from faults.fake_ion import FakeIon, Reply, ion_fixture, json_body, status
from social_django.utils import load_strategy

from ion_oauth import discovery
from ion_oauth.exceptions import IonUnavailable
from ion_oauth.oidc import DISCOVERY_PATH, IonOpenIdConnect

JWKS_PATH = "/oauth/.well-known/jwks.json"
KID = "fault-suite-key"
#: Long enough that nothing here times out on a busy machine; the replies are released
#: by the tests, so no test waits this long.
SLOW_TIMEOUT = 20.0


@pytest.fixture(autouse=True)
def oidc(ion: FakeIon, settings: Any) -> Iterator[None]:
    settings.SOCIAL_AUTH_ION_OIDC_KEY = "fault-oidc-client"
    settings.SOCIAL_AUTH_ION_TIMEOUT = SLOW_TIMEOUT
    discovery.clear_cache()
    yield
    discovery.clear_cache()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(discovery, "_clock", lambda: now[0])
    return now


def discovery_document(ion: FakeIon) -> dict[str, Any]:
    text = json.dumps(ion_fixture("oidc_discovery.json"))
    return json.loads(text.replace("http://127.0.0.1:8080", ion.url))  # type: ignore[no-any-return]


def jwks() -> dict[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {"keys": [{**jwk, "kid": KID, "alg": "RS256", "use": "sig"}]}


def gated(reply: Reply, gate: threading.Event, arrived: threading.Event) -> Reply:
    """``reply``, once the test opens ``gate``; ``arrived`` is set when the request came."""

    def held(handler: Any) -> None:
        arrived.set()
        gate.wait(SLOW_TIMEOUT)
        reply(handler)

    return held


def requests_to(ion: FakeIon, path: str) -> int:
    return sum(1 for request in ion.received if request.path == path)


def in_threads(count: int, call: Callable[[], Any]) -> tuple[list[Any], list[BaseException]]:
    """Run ``call`` in ``count`` threads at once; their results and errors."""
    results: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run() -> None:
        start.wait()
        try:
            results.append(call())
        except BaseException as error:  # collected for the assertions
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(SLOW_TIMEOUT)
    return results, errors


def backend() -> IonOpenIdConnect:
    return IonOpenIdConnect(load_strategy())


def test_concurrent_logins_share_one_failing_discovery_fetch(ion: FakeIon) -> None:
    """Six logins, Ion slow and answering 503: Ion is asked once and all six fail together."""
    gate, arrived = threading.Event(), threading.Event()
    ion.replies[DISCOVERY_PATH] = gated(status(503), gate, arrived)
    threading.Timer(0.5, gate.set).start()

    results, errors = in_threads(6, lambda: backend().oidc_config("begin"))

    assert results == []
    assert len(errors) == 6
    assert all(isinstance(error, IonUnavailable) for error in errors)
    assert {str(error) for error in errors} == {
        "Ion is having trouble right now (HTTP 503). Please try again in a few minutes."
    }
    assert requests_to(ion, DISCOVERY_PATH) == 1


def test_concurrent_logins_share_one_successful_discovery_fetch(ion: FakeIon) -> None:
    gate, arrived = threading.Event(), threading.Event()
    ion.replies[DISCOVERY_PATH] = gated(json_body(discovery_document(ion)), gate, arrived)
    threading.Timer(0.5, gate.set).start()

    results, errors = in_threads(6, lambda: backend().oidc_config("begin")["token_endpoint"])

    assert errors == []
    assert results == [f"{ion.url}/oauth/token/"] * 6
    assert requests_to(ion, DISCOVERY_PATH) == 1


def test_a_cached_document_is_read_while_the_keys_are_being_fetched(ion: FakeIon) -> None:
    """Guards against a key refetch of 3 s making logins that need only the cache wait."""
    ion.replies[DISCOVERY_PATH] = json_body(discovery_document(ion))
    backend().oidc_config("begin")
    gate, arrived = threading.Event(), threading.Event()
    ion.replies[JWKS_PATH] = gated(json_body(jwks()), gate, arrived)
    fetching = threading.Thread(target=lambda: backend().signing_key(KID))
    fetching.start()
    try:
        assert arrived.wait(SLOW_TIMEOUT)
        reader = threading.Thread(target=lambda: backend().oidc_config("begin"))
        reader.start()
        reader.join(5)

        assert not reader.is_alive()
        assert fetching.is_alive()
    finally:
        gate.set()
        fetching.join(SLOW_TIMEOUT)


def test_a_stale_document_is_used_while_another_login_refetches_it(
    ion: FakeIon, clock: list[float]
) -> None:
    ion.replies[DISCOVERY_PATH] = json_body(discovery_document(ion))
    backend().oidc_config("begin")
    clock[0] += discovery.DISCOVERY_LIFETIME + 1
    gate, arrived = threading.Event(), threading.Event()
    ion.replies[DISCOVERY_PATH] = gated(json_body(discovery_document(ion)), gate, arrived)
    refetching = threading.Thread(target=lambda: backend().oidc_config("begin"))
    refetching.start()
    try:
        assert arrived.wait(SLOW_TIMEOUT)

        config = backend().oidc_config("begin")

        assert config["issuer"] == f"{ion.url}/oauth"
        assert refetching.is_alive()
    finally:
        gate.set()
        refetching.join(SLOW_TIMEOUT)
    assert requests_to(ion, DISCOVERY_PATH) == 2


def test_a_failure_is_remembered_briefly_so_logins_fail_fast(
    ion: FakeIon, clock: list[float]
) -> None:
    ion.replies[DISCOVERY_PATH] = status(503)
    with pytest.raises(IonUnavailable):
        backend().oidc_config("begin")

    started = time.monotonic()
    with pytest.raises(IonUnavailable, match="HTTP 503") as caught:
        backend().oidc_config("token_exchange")

    assert time.monotonic() - started < 1
    assert caught.value.stage == "token_exchange"
    assert requests_to(ion, DISCOVERY_PATH) == 1

    clock[0] += discovery.FAILURE_LIFETIME + 1
    ion.replies[DISCOVERY_PATH] = json_body(discovery_document(ion))

    assert backend().oidc_config("begin")["issuer"] == f"{ion.url}/oauth"
    assert requests_to(ion, DISCOVERY_PATH) == 2


def test_a_stale_document_is_used_while_a_refetch_failure_is_remembered(
    ion: FakeIon, clock: list[float]
) -> None:
    ion.replies[DISCOVERY_PATH] = json_body(discovery_document(ion))
    backend().oidc_config("begin")
    clock[0] += discovery.DISCOVERY_LIFETIME + 1
    ion.replies[DISCOVERY_PATH] = status(503)
    with pytest.raises(IonUnavailable):
        backend().oidc_config("begin")

    assert backend().oidc_config("begin")["issuer"] == f"{ion.url}/oauth"
    assert requests_to(ion, DISCOVERY_PATH) == 2


def test_a_waiting_login_gives_up_after_its_timeout(ion: FakeIon, settings: Any) -> None:
    gate, arrived = threading.Event(), threading.Event()
    ion.replies[DISCOVERY_PATH] = gated(json_body(discovery_document(ion)), gate, arrived)
    leader = threading.Thread(target=lambda: backend().oidc_config("begin"))
    leader.start()
    try:
        assert arrived.wait(SLOW_TIMEOUT)
        settings.SOCIAL_AUTH_ION_TIMEOUT = 0.2

        with pytest.raises(IonUnavailable, match=r"did not answer within 0\.2 seconds"):
            backend().oidc_config("begin")
    finally:
        gate.set()
        leader.join(SLOW_TIMEOUT)
    assert requests_to(ion, DISCOVERY_PATH) == 1


def test_a_fetch_failing_with_a_bug_is_not_remembered(
    ion: FakeIon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only Ion's failures are remembered; a bug here must not turn into five seconds of
    failed logins, nor leave a fetch marked in progress."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    with monkeypatch.context() as patched:
        patched.setattr(discovery.transport, "request_json", broken)
        with pytest.raises(RuntimeError, match="a bug"):
            backend().oidc_config("begin")
    ion.replies[DISCOVERY_PATH] = json_body(discovery_document(ion))

    assert backend().oidc_config("begin")["issuer"] == f"{ion.url}/oauth"
    assert requests_to(ion, DISCOVERY_PATH) == 1
