"""No secret in Django's error reports when a login, a refresh or an API call fails.

Django's error report (``AdminEmailHandler`` mails, ``DEBUG = False`` error pages an error
tracker captures) shows every frame's local variables. The client secret, the tokens and the
PKCE verifier sit in the frames of a token exchange, a refresh and an API call, so those
frames are marked with ``sensitive_variables``; every frame they call is then shown
cleansed too. Each test makes one failure reach Django, renders the report as text and
HTML, and looks for every secret in it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import responses
from django.contrib.auth.models import User
from django.test import RequestFactory
from django.views.debug import ExceptionReporter
from ion_fakes import ION, load_fixture
from social_django.models import UserSocialAuth
from social_django.utils import load_strategy

from ion_oauth import transport
from ion_oauth.api import IonClient
from ion_oauth.exceptions import IonAuthError, IonResponseError, IonUnavailable
from ion_oauth.oauth import IonOauth2
from ion_oauth.oidc import DISCOVERY_PATH

pytestmark = pytest.mark.django_db

CLIENT_SECRET = "client-secret-Qm7Zr2Lp9Xw4Vt6N"
OIDC_SECRET = "oidc-client-secret-Hj3Kd8Fs1Ga5Uy"
ACCESS_TOKEN = "access-token-Wn4Bq9Ex2Rt7Yp1C"
REFRESH_TOKEN = "refresh-token-Lk6Mz3Vc8Nx5Qa2T"
ID_TOKEN = "eyJpZC10b2tlbi1Ecjl" + "Fq2Wm5Sv8Ob1Id4Ug7"
TOKEN_URL = f"{ION}/oauth/token/"
PROFILE_URL = f"{ION}/api/profile"
#: What Django shows in place of a cleansed variable.
CLEANSED = "********************"


def token_response(**extra: Any) -> dict[str, Any]:
    return {
        **load_fixture("token_response.json"),
        "access_token": ACCESS_TOKEN,
        "refresh_token": REFRESH_TOKEN,
        **extra,
    }


def report(error: BaseException) -> str:
    """The text and HTML error report Django would send for ``error``."""
    request = RequestFactory().get("/a-page-that-failed/")
    reporter = ExceptionReporter(request, type(error), error, error.__traceback__)
    return reporter.get_traceback_text() + reporter.get_traceback_html()


def assert_no_secret(error: BaseException, secrets: list[str], *, frame: str) -> None:
    text = report(error)
    # The report does show the frame that held them, cleansed: this test can fail.
    assert frame in text
    assert CLEANSED in text
    leaked = [secret for secret in secrets if secret in text]
    assert leaked == []


def raised(call: Callable[[], Any]) -> BaseException:
    try:
        call()
    except Exception as error:  # the error under test, whatever it is
        return error
    pytest.fail("nothing was raised")


@pytest.fixture(autouse=True)
def site(settings: Any) -> Any:
    """The test site with the secrets above, and errors reaching Django (no social middleware)."""
    settings.SOCIAL_AUTH_ION_SECRET = CLIENT_SECRET
    settings.SOCIAL_AUTH_ION_OIDC_KEY = "oidc-client"
    settings.SOCIAL_AUTH_ION_OIDC_SECRET = OIDC_SECRET
    settings.AUTHENTICATION_BACKENDS = [
        "ion_oauth.oauth.IonOauth2",
        "ion_oauth.oidc.IonOpenIdConnect",
        "django.contrib.auth.backends.ModelBackend",
    ]
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "SocialAuthException" not in m]
    return settings


def begin(client: Any, backend: str = "ion") -> tuple[str, str]:
    """Start a login; return its state and the PKCE verifier the session keeps for it."""
    response = client.post(f"/login/{backend}/")
    assert response.status_code == 302, response
    pending = client.session[f"{backend}_ion_oauth_pending"]
    [(state, entry)] = pending.items()
    return state, entry["verifier"]


def test_a_failed_token_exchange(client: Any, fake_ion: responses.RequestsMock) -> None:
    state, verifier = begin(client)
    fake_ion.add(responses.POST, TOKEN_URL, status=503)

    error = raised(lambda: client.get("/complete/ion/", {"code": "the-code", "state": state}))

    assert isinstance(error, IonUnavailable)
    assert_no_secret(error, [CLIENT_SECRET, verifier], frame="_token_request")


def test_a_failure_after_the_token_exchange(client: Any, fake_ion: responses.RequestsMock) -> None:
    state, verifier = begin(client)
    fake_ion.add(responses.POST, TOKEN_URL, json=token_response())
    fake_ion.add(responses.GET, PROFILE_URL, body=RuntimeError("the profile request broke"))

    error = raised(lambda: client.get("/complete/ion/", {"code": "the-code", "state": state}))

    assert isinstance(error, RuntimeError)
    assert_no_secret(
        error, [CLIENT_SECRET, verifier, ACCESS_TOKEN, REFRESH_TOKEN], frame="user_data"
    )


def test_a_failed_openid_connect_login(client: Any, fake_ion: responses.RequestsMock) -> None:
    discovery = json.loads(
        json.dumps(load_fixture("oidc_discovery.json")).replace("http://127.0.0.1:8080", ION)
    )
    fake_ion.add(responses.GET, ION + DISCOVERY_PATH, json=discovery)
    state, verifier = begin(client, "ion-oidc")
    fake_ion.add(responses.POST, TOKEN_URL, json=token_response(id_token=ID_TOKEN))

    error = raised(lambda: client.get("/complete/ion-oidc/", {"code": "the-code", "state": state}))

    assert isinstance(error, IonResponseError)
    assert_no_secret(
        error,
        [OIDC_SECRET, verifier, ACCESS_TOKEN, REFRESH_TOKEN, ID_TOKEN],
        frame="verify_id_token",
    )


def social_login(*, expires_in_s: float) -> UserSocialAuth:
    user = User.objects.create_user("2027jdoe")
    extra_data = {
        "access_token": ACCESS_TOKEN,
        "refresh_token": REFRESH_TOKEN,
        "expires": 36000,
        "auth_time": int(time.time() + expires_in_s - 36000),
    }
    return UserSocialAuth.objects.create(user=user, provider="ion", uid="1", extra_data=extra_data)


def test_a_failed_refresh_in_the_api_client(fake_ion: responses.RequestsMock) -> None:
    client = IonClient.for_social(social_login(expires_in_s=10))
    fake_ion.add(responses.POST, TOKEN_URL, status=503)

    error = raised(lambda: client.get("profile"))

    assert isinstance(error, IonUnavailable)
    assert_no_secret(error, [CLIENT_SECRET, ACCESS_TOKEN, REFRESH_TOKEN], frame="refresh")


def test_a_failed_api_call(fake_ion: responses.RequestsMock) -> None:
    client = IonClient.for_social(social_login(expires_in_s=36000))
    fake_ion.add(responses.GET, PROFILE_URL, body=RuntimeError("the connection broke"))

    error = raised(lambda: client.get("profile"))

    assert isinstance(error, RuntimeError)
    assert_no_secret(error, [ACCESS_TOKEN, REFRESH_TOKEN], frame="request")


def test_a_failed_refresh_in_a_client_without_django(fake_ion: responses.RequestsMock) -> None:
    token = {
        "access_token": ACCESS_TOKEN,
        "refresh_token": REFRESH_TOKEN,
        "expires_at": time.time() + 10,
    }
    client = IonClient.from_token(
        token,
        client_id="script",
        client_secret=CLIENT_SECRET,
        on_token=lambda new: None,
        base_url=ION,
    )
    fake_ion.add(responses.POST, TOKEN_URL, status=503)

    error = raised(lambda: client.get("profile"))

    assert isinstance(error, IonUnavailable)
    assert_no_secret(error, [CLIENT_SECRET, ACCESS_TOKEN, REFRESH_TOKEN], frame="refresh")


def test_a_failed_refresh_of_the_backend(fake_ion: responses.RequestsMock) -> None:
    backend = IonOauth2(load_strategy())
    fake_ion.add(responses.POST, TOKEN_URL, status=503)

    error = raised(lambda: backend.refresh_token(REFRESH_TOKEN))

    assert isinstance(error, IonAuthError)
    assert_no_secret(error, [CLIENT_SECRET, REFRESH_TOKEN], frame="refresh_token")


def test_a_failed_revocation(fake_ion: responses.RequestsMock) -> None:
    backend = IonOauth2(load_strategy())
    fake_ion.add(responses.POST, f"{ION}/oauth/revoke_token/", body=RuntimeError("broke"))

    error = raised(lambda: backend.revoke_token(ACCESS_TOKEN, "1"))

    assert isinstance(error, RuntimeError)
    assert_no_secret(error, [CLIENT_SECRET, ACCESS_TOKEN], frame="revoke_token")


def test_a_failed_request_of_the_transport_itself(fake_ion: responses.RequestsMock) -> None:
    fake_ion.add(responses.POST, TOKEN_URL, body=RuntimeError("the connection broke"))

    error = raised(
        lambda: transport.request_json(
            "POST",
            TOKEN_URL,
            what="token",
            timeout=5,
            data={"client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN},
            headers={"Authorization": f"Bearer {ACCESS_TOKEN}"},
        )
    )

    assert isinstance(error, RuntimeError)
    assert_no_secret(error, [CLIENT_SECRET, ACCESS_TOKEN, REFRESH_TOKEN], frame="send")
