"""``manage.py ion_doctor``: exit 0 for a good setup, 1 naming the setting for each broken one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from doctor_helpers import SITE, Run, doctor, free_port

from ion_oauth.testing import IonSandbox

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("good")]


def by_check(run: Run, section: str) -> dict[str, dict]:
    return {f["check"]: f for f in run.findings(section=section)}


def test_a_good_setup_exits_0_with_every_check_ok(ion):
    run = doctor()

    assert run.status == 0
    assert run.json["ok"] is True
    assert run.json["errors"] == 0
    assert run.json["site_url"] == SITE
    oauth2 = by_check(run, "ion")
    for check in ("reachable", "is Ion", "credentials", "clock", "redirect URIs"):
        assert oauth2[check]["level"] == "ok", oauth2[check]
    oidc = by_check(run, "ion-oidc")
    for check in ("reachable", "is Ion", "discovery", "credentials", "clock", "redirect URIs"):
        assert oidc[check]["level"] == "ok", oidc[check]
    assert oidc["discovery"]["data"]["issuer"] == f"{ion.url}/oauth"
    assert by_check(run, "site")["cookies"]["level"] == "ok"


def test_the_good_run_measures_each_step_and_lists_the_redirect_uris():
    run = doctor()

    reachable = by_check(run, "ion")["reachable"]
    assert set(reachable["data"]) == {"dns_ms", "tcp_ms", "http_ms"}
    assert all(value >= 0 for value in reachable["data"].values())
    assert "no TLS (http)" in reachable["message"]
    assert by_check(run, "ion")["redirect URIs"]["data"]["redirect_uris"] == [
        f"{SITE}/complete/ion/",
        f"{SITE}/complete/ion",
    ]
    assert by_check(run, "ion-oidc")["redirect URIs"]["data"]["redirect_uris"] == [
        f"{SITE}/complete/ion-oidc/",
        f"{SITE}/complete/ion-oidc",
    ]
    assert abs(by_check(run, "ion")["clock"]["data"]["skew_seconds"]) <= 1


def test_the_dummy_code_creates_nothing_on_ion(ion):
    ion.reset_stats()

    doctor()

    # One token request per backend, both refused: no token, no code, no user.
    assert ion.stats()["token_requests"]["authorization_code"] == 2
    assert ion.revoke_tokens() == 0


def test_the_text_report_has_one_line_per_finding_and_a_summary():
    run = Run("--site-url", SITE)

    assert run.status == 0
    lines = run.output.splitlines()
    assert lines[0].startswith("ion (ion_oauth.oauth.IonOauth2) at http://127.0.0.1:")
    assert any(line.startswith("  ok      credentials    Ion knows client") for line in lines)
    assert f"                         {SITE}/complete/ion/" in lines
    assert lines[-1] == "0 errors, 0 warnings."


def test_a_wrong_secret_exits_1_naming_the_secret(good):
    good.SOCIAL_AUTH_ION_SECRET = "not-the-secret"

    run = doctor()

    assert run.status == 1
    error = run.one_error()
    assert (error["section"], error["check"]) == ("ion", "credentials")
    assert "SOCIAL_AUTH_ION_SECRET" in error["setting"]
    assert "invalid_client" in error["message"]
    assert "not-the-secret" not in run.output
    assert run.error == "ion_doctor found 1 error, 0 warnings. Fix the lines marked error."


def test_a_wrong_client_id_exits_1_naming_the_key(good):
    good.SOCIAL_AUTH_ION_OIDC_KEY = "no-such-client"

    run = doctor()

    assert run.status == 1
    error = run.one_error()
    assert (error["section"], error["check"]) == ("ion-oidc", "credentials")
    assert "SOCIAL_AUTH_ION_OIDC_KEY" in error["setting"]
    assert "'no-such-client'" in error["message"]


def test_a_confidential_client_without_its_secret_names_the_secret(good):
    good.SOCIAL_AUTH_ION_SECRET = ""

    error = doctor().one_error()

    assert error["setting"].startswith("SOCIAL_AUTH_ION_SECRET")
    assert "public client, no secret" in error["message"]


def test_no_client_id_at_all(good):
    good.SOCIAL_AUTH_ION_KEY = ""

    error = doctor().one_error()

    assert error["message"] == "SOCIAL_AUTH_ION_KEY is not set."


def test_a_base_url_that_is_not_ion_exits_1_naming_it(good, not_ion):
    good.SOCIAL_AUTH_ION_BASE_URL = not_ion
    good.AUTHENTICATION_BACKENDS = ["ion_oauth.oauth.IonOauth2"]

    run = doctor()

    assert run.status == 1
    error = run.one_error()
    assert error["check"] == "is Ion"
    assert error["setting"] == "SOCIAL_AUTH_ION_BASE_URL"
    assert "HTTP 404 (text/html)" in error["message"]


def test_an_unreachable_ion_exits_1_naming_the_base_url(good):
    good.SOCIAL_AUTH_ION_BASE_URL = f"http://127.0.0.1:{free_port()}"

    run = doctor()

    assert run.status == 1
    # The OIDC backend shares SOCIAL_AUTH_ION_BASE_URL, so both say so.
    errors = run.findings("error")
    assert [(e["section"], e["check"]) for e in errors] == [
        ("ion", "reachable"),
        ("ion-oidc", "reachable"),
    ]
    assert all(e["setting"] == "SOCIAL_AUTH_ION_BASE_URL" for e in errors)
    assert errors[0]["data"]["step"] == "tcp"


def test_https_to_a_plain_http_ion_fails_at_the_tls_step(good, ion):
    good.SOCIAL_AUTH_ION_OIDC_BASE_URL = ion.url.replace("http://", "https://")

    error = doctor().one_error()

    assert (error["section"], error["data"]["step"]) == ("ion-oidc", "tls")
    assert error["setting"] == "SOCIAL_AUTH_ION_OIDC_BASE_URL"


def test_strict_session_cookies_exit_1_naming_samesite(good):
    good.SESSION_COOKIE_SAMESITE = "Strict"

    error = doctor().one_error()

    assert (error["section"], error["check"]) == ("site", "cookies")
    assert error["setting"] == "SESSION_COOKIE_SAMESITE"
    assert "ion_oauth.E030" in error["message"]


def test_secure_cookies_on_an_http_site_exit_1_naming_secure(good):
    good.SESSION_COOKIE_SECURE = True

    error = doctor().one_error()

    assert (error["section"], error["check"]) == ("site", "cookies")
    assert error["setting"].startswith("SESSION_COOKIE_SECURE")


def test_secure_cookies_on_an_https_site_are_fine(good):
    good.SESSION_COOKIE_SECURE = True

    run = Run("--site-url", "https://127.0.0.1", "--json")

    assert run.status == 0


def test_an_oidc_issuer_mismatch_exits_1_naming_the_oidc_base_url(good):
    with IonSandbox(env={"ION_SANDBOX_OIDC_ISSUER": "https://ion.tjhsst.edu/oauth"}) as other:
        good.SOCIAL_AUTH_ION_OIDC_BASE_URL = other.url

        run = doctor()

    assert run.status == 1
    error = run.one_error()
    assert (error["section"], error["check"]) == ("ion-oidc", "discovery")
    assert error["setting"] == "SOCIAL_AUTH_ION_OIDC_BASE_URL"
    assert "'https://ion.tjhsst.edu/oauth'" in error["message"]
    assert error["data"] == {
        "issuer": "https://ion.tjhsst.edu/oauth",
        "expected": f"{other.url}/oauth",
    }


def test_a_clock_beyond_the_id_token_leeway_exits_1_for_openid_connect(ion):
    ion.set_clock_offset(300)
    try:
        run = doctor()
    finally:
        ion.set_clock_offset(0)

    assert run.status == 1
    error = run.one_error()
    assert (error["section"], error["check"]) == ("ion-oidc", "clock")
    assert "this machine's clock" in error["setting"]
    assert "Ion's is 300 s ahead of this machine's" in error["message"]
    assert 299 <= error["data"]["skew_seconds"] <= 301
    # OAuth2 logins do not depend on the clock: a warning there.
    assert by_check(run, "ion")["clock"]["level"] == "warning"


def test_a_clock_drifting_within_the_leeway_is_a_warning(ion):
    ion.set_clock_offset(-30)
    try:
        run = doctor()
    finally:
        ion.set_clock_offset(0)

    assert run.status == 0
    clock = by_check(run, "ion-oidc")["clock"]
    assert clock["level"] == "warning"
    assert "30 s behind" in clock["message"]


def test_a_site_on_ions_host_name_with_ions_cookie_name_exits_1(good):
    # The sandbox's login page sets its CSRF cookie; a site on 127.0.0.1 using that name
    # would have it replaced by Ion's in the middle of a login.
    good.CSRF_COOKIE_NAME = "ion_sandbox_csrftoken"

    run = doctor()

    assert run.status == 1
    # Both backends talk to that Ion, and both say so.
    errors = run.findings("error")
    assert [(e["section"], e["check"]) for e in errors] == [
        ("ion", "cookies"),
        ("ion-oidc", "cookies"),
    ]
    assert errors[0]["setting"].startswith("CSRF_COOKIE_NAME")


def test_a_site_on_ions_host_name_with_its_own_cookie_names_is_fine():
    run = doctor()

    cookies = by_check(run, "ion")["cookies"]
    assert cookies["level"] == "ok"
    assert "ion_sandbox_csrftoken" in cookies["data"]["ion_cookie_names"]


def test_a_site_url_whose_host_is_not_allowed(good):
    run = Run("--site-url", "http://elsewhere.example", "--json")

    assert run.status == 1
    error = run.one_error()
    assert (error["check"], error["setting"]) == ("host", "ALLOWED_HOSTS")


def test_without_site_url_the_hosts_come_from_allowed_hosts(good):
    good.ALLOWED_HOSTS = ["ion-site.example", ".example.org", "*"]
    good.SOCIAL_AUTH_REDIRECT_IS_HTTPS = True

    run = Run("--json")

    assert run.status == 0
    uris = by_check(run, "ion")["redirect URIs"]
    assert uris["data"]["redirect_uris"] == [
        "https://ion-site.example/complete/ion/",
        "https://ion-site.example/complete/ion",
    ]
    assert "--site-url" in uris["message"]


def test_plain_http_outside_debug_is_a_warning(good):
    good.ALLOWED_HOSTS = ["ion-site.example"]

    run = Run("--json")

    assert run.status == 0
    [warning] = [f for f in run.findings("warning") if f["section"] == "ion"]
    assert "plain http while DEBUG is off" in warning["message"]
    assert "SOCIAL_AUTH_REDIRECT_IS_HTTPS" in warning["setting"]


def test_no_host_at_all_asks_for_site_url(good):
    good.ALLOWED_HOSTS = ["*"]

    run = Run("--json")

    assert run.status == 0
    [warning, *_] = run.findings("warning")
    assert warning["setting"] == "--site-url"


def test_no_ion_backend(good):
    good.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]

    error = doctor().one_error()

    assert error["setting"] == "AUTHENTICATION_BACKENDS"


@pytest.mark.parametrize("url", ["ftp://site.example", "https://site.example/app", "site.example"])
def test_a_site_url_that_is_not_a_site_root_is_refused(url):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="must be the site's root"):
        call_command("ion_doctor", "--site-url", url)


EXAMPLE = Path(__file__).resolve().parents[2] / "example_project"


def manage_py_ion_doctor(ion: IonSandbox, **env: str) -> subprocess.CompletedProcess[str]:
    """The example project's ``python manage.py ion_doctor``, as a person runs it."""
    return subprocess.run(
        [sys.executable, "manage.py", "ion_doctor", "--site-url", SITE],
        cwd=EXAMPLE,
        env={
            **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
            "ION_BASE_URL": ion.url,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_manage_py_exits_0_for_the_example_project(ion):
    done = manage_py_ion_doctor(ion)

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "0 errors, 0 warnings."


def test_manage_py_exits_1_with_a_wrong_secret(ion):
    done = manage_py_ion_doctor(ion, ION_CLIENT_SECRET="wrong-secret")

    assert done.returncode == 1
    assert "Change: SOCIAL_AUTH_ION_KEY, SOCIAL_AUTH_ION_SECRET." in done.stdout
    assert "wrong-secret" not in done.stdout + done.stderr
    assert "ion_doctor found 1 error, 0 warnings." in done.stderr
