"""ion_doctor's checks, one failure at a time, against Ion faked with ``responses`` (what
the sandbox cannot show: DNS, a certificate that does not verify, Ion's real cookies)."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from email.utils import format_datetime
from typing import Any

import pytest
import requests
import responses
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from ion_fakes import ION

from ion_oauth import doctor
from ion_oauth.doctor import ion as ion_checks
from ion_oauth.doctor import network
from ion_oauth.doctor.findings import Finding, as_text
from ion_oauth.oidc import DISCOVERY_PATH

SITE = "https://ion.example.test"  # a site on Ion's own host name
TIMINGS = {"dns_ms": 1.0, "tcp_ms": 2.0, "tls_ms": 30.0}


@pytest.fixture
def ion_answers(fake_ion: responses.RequestsMock, monkeypatch: Any) -> responses.RequestsMock:
    """Ion as recorded: 403 for /api/profile without a token, with its sessionid cookie."""
    monkeypatch.setattr(ion_checks, "connect", lambda base_url, timeout: dict(TIMINGS))
    fake_ion.add(
        responses.GET,
        f"{ION}/api/profile",
        json={"detail": "Authentication credentials were not provided."},
        status=403,
        headers={"Set-Cookie": "sessionid=abc; Path=/; HttpOnly", "Date": _http_date(0)},
    )
    return fake_ion


def _http_date(offset: float) -> str:
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset)
    return format_datetime(moment, usegmt=True)


def _token(fake_ion: responses.RequestsMock, status: int, body: Any, **kwargs: Any) -> None:
    fake_ion.add(responses.POST, f"{ION}/oauth/token/", status=status, json=body, **kwargs)


def _login_page(fake_ion: responses.RequestsMock) -> None:
    fake_ion.add(
        responses.GET,
        f"{ION}/login/",
        body="<form></form>",
        headers={"Set-Cookie": "csrftoken=x; Path=/"},
    )


def findings(site_url: str | None = None, section: str = "ion") -> dict[str, Finding]:
    return {f.check: f for f in doctor.diagnose(site_url) if f.section == section}


def test_tls_timings_and_ions_real_cookie_names_on_a_shared_host(ion_answers):
    _token(ion_answers, 400, {"error": "invalid_grant"})
    _login_page(ion_answers)

    found = findings(SITE)

    assert "TLS 30 ms (certificate verified)" in found["reachable"].message
    cookies = found["cookies"]
    assert cookies.level == "error"
    # Ion sends sessionid and csrftoken, Django's defaults, which this site uses too.
    assert cookies.setting == "SESSION_COOKIE_NAME, CSRF_COOKIE_NAME (a name of this site's own)"
    assert cookies.data["ion_cookie_names"] == ["csrftoken", "sessionid"]


def test_a_public_client_is_accepted(ion_answers, settings):
    settings.SOCIAL_AUTH_ION_SECRET = ""
    _token(ion_answers, 400, {"error": "invalid_grant"})

    credentials = findings("https://site.example")["credentials"]

    assert credentials.level == "ok"
    assert "public client, no secret" in credentials.message
    sent = ion_answers.calls[-1].request.body
    assert "client_secret" not in sent
    assert "redirect_uri=https%3A%2F%2Fsite.example%2Fcomplete%2Fion%2F" in sent


def test_the_secret_never_appears_in_the_report(ion_answers, settings):
    _token(ion_answers, 401, {"error": "invalid_client"})

    report = doctor.as_json(doctor.diagnose("https://site.example"))

    assert settings.SOCIAL_AUTH_ION_SECRET not in report
    assert "SOCIAL_AUTH_ION_KEY, SOCIAL_AUTH_ION_SECRET" in report


def test_a_token_endpoint_that_answers_something_else(ion_answers):
    ion_answers.add(
        responses.POST,
        f"{ION}/oauth/token/",
        status=500,
        body="<h1>Server Error</h1>",
        content_type="text/html",
    )

    credentials = findings("https://site.example")["credentials"]

    assert credentials.level == "error"
    assert "HTTP 500 text/html; it should be 400 invalid_grant" in credentials.message


def test_a_token_endpoint_that_does_not_answer(ion_answers):
    ion_answers.add(responses.POST, f"{ION}/oauth/token/", body=requests.ReadTimeout("slow"))

    credentials = findings("https://site.example")["credentials"]

    assert credentials.level == "error"
    assert "no answer within 10 s" in credentials.message


def test_no_date_header_is_a_warning(fake_ion, monkeypatch):
    monkeypatch.setattr(ion_checks, "connect", lambda base_url, timeout: dict(TIMINGS))
    fake_ion.add(responses.GET, f"{ION}/api/profile", json={"detail": "x"}, status=403)
    _token(fake_ion, 400, {"error": "invalid_grant"})

    clock = findings("https://site.example")["clock"]

    assert clock.level == "warning"
    assert "no Date header" in clock.message


def test_an_unreadable_date_header_is_no_date(fake_ion, monkeypatch):
    monkeypatch.setattr(ion_checks, "connect", lambda base_url, timeout: dict(TIMINGS))
    fake_ion.add(
        responses.GET,
        f"{ION}/api/profile",
        json={"detail": "x"},
        status=403,
        headers={"Date": "yesterday"},
    )
    _token(fake_ion, 400, {"error": "invalid_grant"})

    clock = findings("https://site.example")["clock"]

    assert clock.level == "warning"
    assert "no Date header" in clock.message


def test_a_backend_that_cannot_be_imported_is_left_to_django(ion_answers, settings):
    settings.AUTHENTICATION_BACKENDS = ["no.such.Backend", "ion_oauth.oauth.IonOauth2"]
    _token(ion_answers, 400, {"error": "invalid_grant"})

    sections = {f.section for f in doctor.diagnose("https://site.example")}

    assert sections == {"ion", "site"}


def test_a_redirect_instead_of_ions_403_says_where_it_goes(fake_ion, monkeypatch):
    monkeypatch.setattr(ion_checks, "connect", lambda base_url, timeout: dict(TIMINGS))
    fake_ion.add(
        responses.GET,
        f"{ION}/api/profile",
        status=302,
        headers={"Location": "https://sso.example/login"},
    )

    is_ion = findings("https://site.example")["is Ion"]

    assert "a redirect to https://sso.example/login" in is_ion.message
    assert is_ion.setting == "SOCIAL_AUTH_ION_BASE_URL"


def test_a_body_over_the_cap_is_cut(fake_ion):
    fake_ion.add(responses.GET, f"{ION}/big", body=b"x" * (network.MAX_BODY + 10))

    answer = network.fetch("GET", f"{ION}/big", 5)

    assert len(answer.body) == network.MAX_BODY
    assert answer.json is not None  # not JSON: the sentinel, never a crash


def test_a_connection_error_is_reported_as_the_http_step(fake_ion):
    fake_ion.add(responses.GET, f"{ION}/x", body=requests.ConnectionError("reset"))

    with pytest.raises(network.Unreachable) as caught:
        network.fetch("GET", f"{ION}/x", 5)

    assert (caught.value.step, caught.value.message) == (
        "http",
        "the request failed: ConnectionError.",
    )


# -- OpenID Connect --------------------------------------------------------------------


@pytest.fixture
def oidc(ion_answers, settings):
    settings.AUTHENTICATION_BACKENDS = ["ion_oauth.oidc.IonOpenIdConnect"]
    settings.SOCIAL_AUTH_ION_OIDC_KEY = "oidc-client"
    settings.SOCIAL_AUTH_ION_OIDC_SECRET = "oidc-secret"
    return ion_answers


DISCOVERY = f"{ION}{DISCOVERY_PATH}"


def _discovery(fake_ion: responses.RequestsMock, **changes: Any) -> None:
    document = {"issuer": f"{ION}/oauth", "jwks_uri": f"{ION}/oauth/.well-known/jwks.json"}
    fake_ion.add(responses.GET, DISCOVERY, json={**document, **changes})


def test_no_discovery_document(oidc):
    oidc.add(responses.GET, DISCOVERY, status=404, body="nope")

    discovery = findings("https://site.example", "ion-oidc")["discovery"]

    assert "is OpenID Connect enabled on this Ion?" in discovery.message
    assert discovery.setting == "SOCIAL_AUTH_ION_BASE_URL"


def test_discovery_that_does_not_answer(oidc, settings):
    settings.SOCIAL_AUTH_ION_OIDC_BASE_URL = ION
    oidc.add(responses.GET, DISCOVERY, body=requests.ConnectTimeout("slow"))

    discovery = findings("https://site.example", "ion-oidc")["discovery"]

    assert discovery.level == "error"
    assert discovery.setting == "SOCIAL_AUTH_ION_OIDC_BASE_URL"


def test_keys_on_another_host_are_refused(oidc):
    _discovery(oidc, jwks_uri="https://keys.example/jwks.json")

    discovery = findings("https://site.example", "ion-oidc")["discovery"]

    assert "is not on https://ion.example.test" in discovery.message


@pytest.mark.parametrize(
    "keys",
    [
        {"keys": []},
        {"keys": [{"kty": "EC", "kid": "a"}]},
        {"keys": [{"kty": "RSA", "alg": "RS512", "kid": "b"}]},
        {"keys": [{"kty": "RSA", "use": "enc", "kid": "c"}]},
        ["not", "a", "key", "set"],
    ],
)
def test_keys_without_an_rs256_signing_key(oidc, keys):
    _discovery(oidc)
    oidc.add(responses.GET, f"{ION}/oauth/.well-known/jwks.json", json=keys)

    found = findings("https://site.example", "ion-oidc")

    assert found["keys"].level == "error"
    assert "no RS256 signing key" in found["keys"].message


def test_keys_that_do_not_answer(oidc):
    _discovery(oidc)
    oidc.add(
        responses.GET, f"{ION}/oauth/.well-known/jwks.json", body=requests.ConnectionError("x")
    )

    assert findings("https://site.example", "ion-oidc")["keys"].level == "error"


# -- reaching Ion, step by step, for real ---------------------------------------------


def test_a_name_that_does_not_resolve_fails_at_dns(monkeypatch):
    def no_such_host(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)

    with pytest.raises(network.Unreachable) as caught:
        network.connect("https://ion.invalid", 1)

    assert caught.value.step == "dns"
    assert "'ion.invalid' does not resolve" in caught.value.message


def test_a_connect_timeout_fails_at_tcp(monkeypatch):
    def slow(self: socket.socket, address: Any) -> None:
        raise TimeoutError("timed out")

    monkeypatch.setattr(socket.socket, "connect", slow)

    with pytest.raises(network.Unreachable) as caught:
        network.connect("http://127.0.0.1:9", 0.5)

    assert caught.value.step == "tcp"
    assert "within 0.5 s" in caught.value.message


@pytest.fixture
def self_signed_tls() -> Iterator[tuple[int, str]]:
    """A TLS server on loopback whose certificate no CA signed."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    loopback = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([loopback]), critical=False)
        .sign(key, hashes.SHA256())
    )
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        cert_file, key_file = Path(tmp, "cert.pem"), Path(tmp, "key.pem")
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        listener = socket.create_server(("127.0.0.1", 0))

        def serve() -> None:
            conn, _ = listener.accept()
            # The client may refuse the certificate: then the handshake fails here too.
            with (
                contextlib.suppress(ssl.SSLError, OSError),
                context.wrap_socket(conn, server_side=True),
            ):
                pass

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            yield listener.getsockname()[1], str(cert_file)
        finally:
            listener.close()
            thread.join(5)


def test_a_certificate_that_does_not_verify_fails_at_tls(self_signed_tls):
    port, _cert = self_signed_tls

    with pytest.raises(network.Unreachable) as caught:
        network.connect(f"https://127.0.0.1:{port}", 5)

    assert caught.value.step == "tls"
    assert "certificate does not verify: self-signed certificate" in caught.value.message


def test_a_certificate_that_verifies_is_timed(self_signed_tls, monkeypatch):
    port, cert = self_signed_tls
    # Trusted the way requests would trust it, so the doctor agrees with the login.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", cert)

    timings = network.connect(f"https://127.0.0.1:{port}", 5)

    assert set(timings) == {"dns_ms", "tcp_ms", "tls_ms"}


# -- the site's side --------------------------------------------------------------------


def test_no_social_auth_urls_means_no_callback(ion_answers, settings):
    settings.ROOT_URLCONF = "nosocial_urls"
    _token(ion_answers, 400, {"error": "invalid_grant"})

    callback = findings("https://site.example")["callback"]

    assert callback.level == "error"
    assert "ROOT_URLCONF" in callback.setting


def test_debug_without_allowed_hosts_uses_djangos_local_names(settings):
    settings.DEBUG = True
    settings.ALLOWED_HOSTS = []

    assert doctor.site_urls(None) == ["http://localhost", "http://127.0.0.1", "http://[::1]"]


def test_an_ipv6_site_url_is_matched_against_allowed_hosts(settings):
    settings.ALLOWED_HOSTS = ["[::1]"]

    assert [
        f for f in doctor.site_findings(["http://[::1]:8000"], given=True) if f.check == "host"
    ] == []


def test_an_unknown_samesite_value_is_an_error_naming_samesite(settings):
    settings.SESSION_COOKIE_SAMESITE = "Relaxed"

    [error] = [
        f for f in doctor.site_findings(["http://localhost"], given=True) if f.level == "error"
    ]

    assert error.setting == "SESSION_COOKIE_SAMESITE"
    assert "ion_oauth.E032" in error.message


def test_the_text_report_shows_the_setting_only_for_problems():
    text = as_text(
        [
            Finding("ion", "clock", "ok", "fine.", setting="never shown"),
            Finding("site", "cookies", "error", "broken.", setting="SESSION_COOKIE_SAMESITE"),
            Finding("site", "cookies", "warning", "odd."),
        ],
        {"ion": "ion at X"},
    )

    assert text.splitlines() == [
        "ion at X",
        "  ok      clock          fine.",
        "",
        "site",
        "  error   cookies        broken. Change: SESSION_COOKIE_SAMESITE.",
        "  warning cookies        odd.",
        "",
        "1 error, 1 warning.",
    ]


def test_debug_without_allowed_hosts_accepts_djangos_local_names(settings):
    settings.DEBUG = True
    settings.ALLOWED_HOSTS = []

    found = doctor.site_findings(["http://localhost:8000"], given=True)

    assert [f.level for f in found] == ["ok"]


def test_the_debug_guess_about_secure_cookies_gives_way_to_the_site_url(settings):
    settings.DEBUG = True
    settings.SESSION_COOKIE_SECURE = True

    https = doctor.site_findings(["https://localhost"], given=True)
    http = doctor.site_findings(["http://localhost"], given=True)

    assert [f.level for f in https] == ["ok"]
    assert [(f.level, f.setting) for f in http] == [
        ("error", "SESSION_COOKIE_SECURE (or serve the site over https)")
    ]
