"""ion_oauth.discovery: the per-process cache of Ion's discovery document and signing keys.

Ion is faked with ``responses``; the cache's clock is a list the tests move forward; fetches
that must overlap are held in a ``responses`` callback until the test releases them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
import responses
from cryptography.hazmat.primitives.asymmetric import rsa
from ion_fakes import ION, load_fixture
from social_django.utils import load_strategy

from ion_oauth import discovery
from ion_oauth.exceptions import IonAuthError, IonResponseError, IonUnavailable
from ion_oauth.oidc import IonOpenIdConnect

DISCOVERY_URL = f"{ION}/oauth/.well-known/openid-configuration/"
JWKS_URL = f"{ION}/oauth/.well-known/jwks.json"
KID = "ion-key-1"
UNKNOWN_KEY = (
    "Ion's answer could not be verified: its ID token is signed with a key Ion does not "
    "publish. You were not logged in; please try again in a minute."
)
#: How long a test waits for another thread before calling it stuck.
PATIENCE = 10


def document() -> dict[str, Any]:
    text = json.dumps(load_fixture("oidc_discovery.json"))
    return json.loads(text.replace("http://127.0.0.1:8080", ION))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def ion_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: rsa.RSAPrivateKey, kid: str = KID) -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


@pytest.fixture(autouse=True)
def empty_cache(settings: Any) -> Iterator[None]:
    settings.SOCIAL_AUTH_ION_OIDC_KEY = "test-oidc-client"
    settings.SOCIAL_AUTH_ION_OIDC_SECRET = "test-oidc-secret"
    discovery.clear_cache()
    yield
    discovery.clear_cache()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The clock the cache reads; tests move it forward with ``clock[0] += seconds``."""
    now = [1000.0]
    monkeypatch.setattr(discovery, "_clock", lambda: now[0])
    return now


@pytest.fixture
def backend() -> IonOpenIdConnect:
    return IonOpenIdConnect(load_strategy())


def config(backend: IonOpenIdConnect, stage: str = "auth_start") -> dict[str, str]:
    return discovery.oidc_config(backend, DISCOVERY_URL, stage)


def key(backend: IonOpenIdConnect, kid: str = KID, stage: str = "token_validation") -> jwt.PyJWK:
    return discovery.signing_key(backend, JWKS_URL, kid, stage)


def calls(mock: responses.RequestsMock, url: str) -> int:
    return sum(1 for call in mock.calls if call.request.url == url)


# -- the discovery document -------------------------------------------------------------


def test_the_document_is_fetched_as_json_with_the_timeout_and_checked(fake_ion, backend, settings):
    settings.SOCIAL_AUTH_ION_OIDC_TIMEOUT = 7
    fake_ion.add(responses.GET, DISCOVERY_URL, json=document())

    assert config(backend)["token_endpoint"] == f"{ION}/oauth/token/"
    request = fake_ion.calls[0].request
    assert request.method == "GET"
    assert request.headers["Accept"] == "application/json"
    assert request.req_kwargs["timeout"] == 7


def test_a_document_pointing_away_from_the_base_url_is_refused_with_the_stage(fake_ion, backend):
    fake_ion.add(
        responses.GET, DISCOVERY_URL, json={**document(), "token_endpoint": "https://evil.test/t"}
    )

    with pytest.raises(IonResponseError) as caught:
        config(backend, stage="auth_complete")

    assert caught.value.code == "invalid_claim"
    assert caught.value.stage == "auth_complete"


@pytest.mark.parametrize(
    ("age", "fetches"), [(discovery.DISCOVERY_LIFETIME - 1, 1), (discovery.DISCOVERY_LIFETIME, 2)]
)
def test_the_document_is_used_for_a_day_then_fetched_again(fake_ion, backend, clock, age, fetches):
    fake_ion.add(responses.GET, DISCOVERY_URL, json=document())
    config(backend)
    clock[0] += age

    config(backend)

    assert calls(fake_ion, DISCOVERY_URL) == fetches


def test_clear_cache_forgets_the_document(fake_ion, backend, clock):
    fake_ion.add(responses.GET, DISCOVERY_URL, json=document())
    config(backend)

    discovery.clear_cache()
    config(backend)

    assert calls(fake_ion, DISCOVERY_URL) == 2


# -- failures ---------------------------------------------------------------------------


def test_a_failure_is_remembered_so_ion_is_not_asked_again_at_once(fake_ion, backend, clock):
    fake_ion.add(responses.GET, DISCOVERY_URL, status=429, headers={"Retry-After": "30"})
    with pytest.raises(IonUnavailable) as first:
        config(backend, stage="auth_start")
    clock[0] += discovery.FAILURE_LIFETIME - 1

    with pytest.raises(IonUnavailable) as second:
        config(backend, stage="auth_complete")

    assert calls(fake_ion, DISCOVERY_URL) == 1
    assert second.value is not first.value
    assert type(second.value) is type(first.value)
    assert second.value.message == first.value.message
    assert second.value.code == first.value.code == "rate_limited"
    assert second.value.status_code == first.value.status_code == 429
    assert second.value.retry_after == first.value.retry_after == "30"
    assert first.value.stage == "auth_start"
    assert second.value.stage == "auth_complete"


def test_a_remembered_failure_keeps_ions_error_code(fake_ion, backend, clock):
    fake_ion.add(responses.GET, DISCOVERY_URL, status=400, json={"error": "invalid_client"})
    with pytest.raises(IonAuthError) as first:
        config(backend)

    with pytest.raises(IonAuthError) as second:
        config(backend)

    assert first.value.provider_error == "invalid_client"
    assert second.value.provider_error == "invalid_client"


def test_ion_is_asked_again_once_the_failure_is_old_enough(fake_ion, backend, clock):
    failing = fake_ion.add(responses.GET, DISCOVERY_URL, status=503)
    with pytest.raises(IonUnavailable):
        config(backend)
    fake_ion.remove(failing)
    fake_ion.add(responses.GET, DISCOVERY_URL, json=document())
    clock[0] += discovery.FAILURE_LIFETIME

    assert config(backend)["issuer"] == f"{ION}/oauth"
    assert calls(fake_ion, DISCOVERY_URL) == 2


def test_a_stale_document_is_used_while_ion_is_failing(fake_ion, backend, clock):
    fake_ion.add(responses.GET, DISCOVERY_URL, json=document())
    config(backend)
    fake_ion.replace(responses.GET, DISCOVERY_URL, status=503)
    clock[0] += discovery.DISCOVERY_LIFETIME

    with pytest.raises(IonUnavailable):
        config(backend)
    clock[0] += 1

    assert config(backend)["issuer"] == f"{ION}/oauth"
    assert calls(fake_ion, DISCOVERY_URL) == 2


def test_a_bug_while_fetching_is_not_remembered_as_ions_failure(fake_ion, backend, clock):
    fake_ion.add(responses.GET, DISCOVERY_URL, body=RuntimeError("a bug"))
    with pytest.raises(RuntimeError):
        config(backend)
    fake_ion.replace(responses.GET, DISCOVERY_URL, json=document())

    assert config(backend)["issuer"] == f"{ION}/oauth"
    assert calls(fake_ion, DISCOVERY_URL) == 2


# -- signing keys -----------------------------------------------------------------------


def test_the_key_with_the_id_is_returned(fake_ion, backend, ion_key, settings):
    settings.SOCIAL_AUTH_ION_OIDC_TIMEOUT = 3
    fake_ion.add(responses.GET, JWKS_URL, json={"keys": [public_jwk(ion_key)]})

    assert key(backend).key_id == KID
    request = fake_ion.calls[0].request
    assert request.headers["Accept"] == "application/json"
    assert request.req_kwargs["timeout"] == 3


def test_keys_ion_sends_that_are_not_keys_fail_with_the_stage(fake_ion, backend):
    fake_ion.add(responses.GET, JWKS_URL, json={"not": "keys"})

    with pytest.raises(IonResponseError) as caught:
        key(backend, stage="refresh")

    assert caught.value.code == "missing_claim"
    assert caught.value.stage == "refresh"


@pytest.mark.parametrize(
    ("age", "fetches"), [(discovery.KEYS_LIFETIME - 1, 1), (discovery.KEYS_LIFETIME, 2)]
)
def test_keys_are_used_for_their_lifetime(  # noqa: PLR0917
    fake_ion, backend, ion_key, clock, age, fetches
):
    fake_ion.add(responses.GET, JWKS_URL, json={"keys": [public_jwk(ion_key)]})
    key(backend)
    clock[0] += age

    key(backend)

    assert calls(fake_ion, JWKS_URL) == fetches


@pytest.mark.parametrize(
    ("age", "fetches"),
    [(0, 1), (discovery.KEY_REFETCH_INTERVAL - 1, 1), (discovery.KEY_REFETCH_INTERVAL, 2)],
)
def test_an_unknown_key_id_refetches_at_most_once_a_minute(  # noqa: PLR0917
    fake_ion, backend, ion_key, clock, age, fetches
):
    fake_ion.add(responses.GET, JWKS_URL, json={"keys": [public_jwk(ion_key)]})
    key(backend)
    clock[0] += age

    with pytest.raises(IonResponseError) as caught:
        key(backend, kid="rotated")

    assert caught.value.message == UNKNOWN_KEY
    assert caught.value.code == "invalid_signature"
    assert calls(fake_ion, JWKS_URL) == fetches


def test_a_stale_key_set_serves_a_key_it_has_while_ion_is_failing(
    fake_ion, backend, ion_key, clock
):
    fake_ion.add(responses.GET, JWKS_URL, json={"keys": [public_jwk(ion_key)]})
    key(backend)
    fake_ion.replace(responses.GET, JWKS_URL, status=503)
    clock[0] += discovery.KEYS_LIFETIME
    with pytest.raises(IonUnavailable):
        key(backend)

    assert key(backend).key_id == KID
    with pytest.raises(IonUnavailable) as caught:
        key(backend, kid="rotated", stage="auth_complete")
    assert caught.value.stage == "auth_complete"
    assert calls(fake_ion, JWKS_URL) == 2


# -- single flight ----------------------------------------------------------------------


class HeldIon:
    """Ion whose answers wait until the test releases them; counts the requests."""

    def __init__(self, mock: responses.RequestsMock, url: str, answer: Callable[[], Any]):
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.requests = 0
        self.answer = answer
        mock.add_callback(responses.GET, url, callback=self.callback)

    def callback(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.requests += 1
        self.arrived.set()
        assert self.release.wait(PATIENCE)
        status, body = self.answer()
        return status, {"Content-Type": "application/json"}, json.dumps(body)


class Caller(threading.Thread):
    """A thread that runs ``call`` and keeps its result or exception for the test."""

    def __init__(self, call: Callable[[], Any]):
        super().__init__(daemon=True)
        self.call = call
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.call()
        except BaseException as error:
            self.error = error

    def outcome(self) -> Any:
        self.join(PATIENCE)
        assert not self.is_alive(), "the call is stuck"
        return self.result, self.error


def test_callers_during_a_fetch_wait_for_it_and_share_its_answer(fake_ion, backend):
    ion = HeldIon(fake_ion, DISCOVERY_URL, lambda: (200, document()))
    leader = Caller(lambda: config(backend))
    leader.start()
    assert ion.arrived.wait(PATIENCE)
    follower = Caller(lambda: config(backend))
    follower.start()
    follower.join(0.2)
    assert follower.is_alive(), "the second caller did not wait for the fetch"

    ion.release.set()

    assert leader.outcome() == (follower.outcome()[0], None)
    assert follower.outcome()[1] is None
    assert follower.outcome()[0]["issuer"] == f"{ION}/oauth"
    assert ion.requests == 1


def test_callers_during_a_failing_fetch_get_its_error_with_their_stage(fake_ion, backend):
    ion = HeldIon(fake_ion, DISCOVERY_URL, lambda: (503, {}))
    leader = Caller(lambda: config(backend, stage="auth_start"))
    leader.start()
    assert ion.arrived.wait(PATIENCE)
    follower = Caller(lambda: config(backend, stage="auth_complete"))
    follower.start()
    follower.join(0.2)

    ion.release.set()

    _, led = leader.outcome()
    _, followed = follower.outcome()
    assert isinstance(led, IonUnavailable)
    assert isinstance(followed, IonUnavailable)
    assert followed is not led
    assert followed.message == led.message
    assert followed.code == led.code
    assert (led.stage, followed.stage) == ("auth_start", "auth_complete")
    assert ion.requests == 1


def test_a_caller_waiting_longer_than_the_timeout_is_told_ion_is_slow(fake_ion, backend, settings):
    settings.SOCIAL_AUTH_ION_OIDC_TIMEOUT = 0.25
    ion = HeldIon(fake_ion, DISCOVERY_URL, lambda: (200, document()))
    leader = Caller(lambda: config(backend))
    leader.start()
    assert ion.arrived.wait(PATIENCE)

    try:
        with pytest.raises(IonUnavailable) as caught:
            config(backend, stage="auth_start")
    finally:
        ion.release.set()
        leader.outcome()

    assert caught.value.message == (
        "Ion did not answer within 0.25 seconds. Please try again in a few minutes."
    )
    assert caught.value.code == "timeout"
    assert caught.value.stage == "auth_start"


def test_a_caller_with_a_stale_document_does_not_wait_for_the_fetch(fake_ion, backend, clock):
    fake_ion.add(responses.GET, DISCOVERY_URL, json={**document(), "jwks_uri": JWKS_URL})
    config(backend)
    fake_ion.remove(responses.GET, DISCOVERY_URL)
    ion = HeldIon(fake_ion, DISCOVERY_URL, lambda: (200, document()))
    clock[0] += discovery.DISCOVERY_LIFETIME
    leader = Caller(lambda: config(backend))
    leader.start()
    assert ion.arrived.wait(PATIENCE)

    try:
        stale = Caller(lambda: config(backend))
        stale.start()
        result, error = stale.outcome()
    finally:
        ion.release.set()
        leader.outcome()

    assert error is None
    assert result["jwks_uri"] == JWKS_URL
    assert ion.requests == 1


def test_a_caller_after_a_fetch_that_hit_a_bug_fetches_itself(fake_ion, backend, monkeypatch):
    """A bug is not Ion's failure: nobody is told Ion failed, the next caller asks again."""
    parse = discovery.parse_discovery
    bugs = [RuntimeError("a bug")]

    def parse_once_with_a_bug(*args: Any, **kwargs: Any) -> dict[str, str]:
        if bugs:
            raise bugs.pop()
        return parse(*args, **kwargs)

    monkeypatch.setattr(discovery, "parse_discovery", parse_once_with_a_bug)
    ion = HeldIon(fake_ion, DISCOVERY_URL, lambda: (200, document()))
    leader = Caller(lambda: config(backend))
    leader.start()
    assert ion.arrived.wait(PATIENCE)
    follower = Caller(lambda: config(backend))
    follower.start()
    follower.join(0.2)

    ion.release.set()

    assert isinstance(leader.outcome()[1], RuntimeError)
    result, error = follower.outcome()
    assert error is None
    assert result["issuer"] == f"{ION}/oauth"
    assert ion.requests == 2


# -- what the errors carry --------------------------------------------------------------


@pytest.mark.parametrize(
    ("fetch", "url", "what"),
    [(config, DISCOVERY_URL, "an OpenID configuration"), (key, JWKS_URL, "a signing keys")],
    ids=["discovery", "keys"],
)
def test_an_unreadable_answer_names_what_was_asked(fake_ion, backend, fetch, url, what):
    fake_ion.add(responses.GET, url, body="<html>", content_type="application/json")

    with pytest.raises(IonAuthError) as caught:
        fetch(backend, stage="refresh")

    assert caught.value.message == (
        f"Ion sent {what} response this site could not read. Please try again later."
    )
    assert caught.value.stage == "refresh"
    assert caught.value.backend is backend


@pytest.mark.parametrize(
    ("fetch", "url", "body"),
    [
        (config, DISCOVERY_URL, {"issuer": "nonsense"}),
        (key, JWKS_URL, {"not": "keys"}),
    ],
    ids=["discovery", "keys"],
)
def test_errors_name_the_backend_the_first_time_and_when_remembered(  # noqa: PLR0917
    fake_ion, backend, clock, fetch, url, body
):
    fake_ion.add(responses.GET, url, json=body)
    with pytest.raises(IonAuthError) as first:
        fetch(backend)
    with pytest.raises(IonAuthError) as second:
        fetch(backend)

    assert first.value.backend is backend
    assert second.value.backend is backend


def test_an_unknown_key_error_names_the_backend(fake_ion, backend, ion_key):
    fake_ion.add(responses.GET, JWKS_URL, json={"keys": [public_jwk(ion_key)]})

    with pytest.raises(IonResponseError) as caught:
        key(backend, kid="rotated")

    assert caught.value.backend is backend


def test_a_slow_ions_error_and_a_shared_failure_name_the_waiters_backend(
    fake_ion, backend, settings
):
    settings.SOCIAL_AUTH_ION_OIDC_TIMEOUT = 0.25
    ion = HeldIon(fake_ion, DISCOVERY_URL, lambda: (503, {}))
    leader = Caller(lambda: config(IonOpenIdConnect(load_strategy())))
    leader.start()
    assert ion.arrived.wait(PATIENCE)
    try:
        with pytest.raises(IonUnavailable) as slow:
            config(backend)
        settings.SOCIAL_AUTH_ION_OIDC_TIMEOUT = PATIENCE
        follower = Caller(lambda: config(backend))
        follower.start()
        follower.join(0.2)
    finally:
        ion.release.set()
        leader.outcome()

    assert slow.value.backend is backend
    assert follower.outcome()[1].backend is backend


def test_each_url_has_its_own_document(fake_ion, backend, settings):
    other = "https://other-ion.example.test"
    fake_ion.add(responses.GET, DISCOVERY_URL, json=document())
    fake_ion.add(
        responses.GET,
        f"{other}/oauth/.well-known/openid-configuration/",
        json=json.loads(json.dumps(document()).replace(ION, other)),
    )
    config(backend)
    settings.SOCIAL_AUTH_ION_OIDC_BASE_URL = other
    elsewhere = IonOpenIdConnect(load_strategy())

    assert discovery.oidc_config(elsewhere, elsewhere.discovery_url(), "auth_start")["issuer"] == (
        f"{other}/oauth"
    )


def test_each_url_has_its_own_keys(fake_ion, backend, ion_key):
    other_uri = f"{ION}/oauth/other-jwks.json"
    fake_ion.add(responses.GET, JWKS_URL, json={"keys": [public_jwk(ion_key)]})
    fake_ion.add(responses.GET, other_uri, json={"keys": [public_jwk(ion_key, "ion-key-2")]})
    key(backend)

    assert discovery.signing_key(backend, other_uri, "ion-key-2", "auth_start").key_id == (
        "ion-key-2"
    )
