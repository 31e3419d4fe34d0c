"""``python -m ion_oauth.sandbox``: options, printed settings, data kept or reset, people."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from ion_oauth.testing import IonSandbox, IonSandboxError

REDIRECT = "http://127.0.0.1:8000/complete/ion/"


def run_cli(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI to its end (these runs fail before serving)."""
    return subprocess.run(
        [sys.executable, "-m", "ion_oauth.sandbox", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={**os.environ, **env},
        check=False,
    )


def profile(sandbox: IonSandbox, access_token: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {access_token}"}
    return requests.get(f"{sandbox.url}/api/profile", headers=headers, timeout=10)


def jwks_kid(sandbox: IonSandbox) -> str:
    keys = requests.get(f"{sandbox.url}/oauth/.well-known/jwks.json", timeout=10).json()
    return str(keys["keys"][0]["kid"])


def test_help_lists_the_contract_options() -> None:
    result = run_cli("--help")

    assert result.returncode == 0
    for option in (
        "--host",
        "--port",
        "--data-dir",
        "--reset",
        "--client-id",
        "--client-secret",
        "--redirect-uri",
        "--people",
    ):
        assert option in result.stdout


def test_without_django_oauth_toolkit_it_says_which_extra_to_install(tmp_path: Path) -> None:
    script = (
        "import sys; sys.modules['oauth2_provider'] = None; "  # makes the import fail
        "from ion_oauth.sandbox.__main__ import main; sys.exit(main(sys.argv[1:]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, "--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert "pip install 'ion-oauth[sandbox]'" in result.stderr
    assert not (tmp_path / "data").exists()


def test_banner_prints_the_settings_to_paste(ion_sandbox: IonSandbox) -> None:
    output = ion_sandbox.output

    assert f'SOCIAL_AUTH_ION_BASE_URL = "{ion_sandbox.url}"' in output
    assert 'SOCIAL_AUTH_ION_KEY = "ion-sandbox-client"' in output
    assert 'SOCIAL_AUTH_ION_SECRET = "ion-sandbox-secret"' in output
    assert 'SOCIAL_AUTH_ION_OIDC_KEY = "ion-sandbox-oidc"' in output
    assert 'SOCIAL_AUTH_ION_OIDC_SECRET = "ion-sandbox-oidc-secret"' in output
    assert "2027jdoe" in output


ROOT = Path(__file__).resolve().parents[2]


def test_the_banner_pastes_the_readmes_quickstart_block_word_for_word(
    ion_sandbox: IonSandbox,
) -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- quickstart:sandbox -->\n```python\n", 1)[1].split("```", 1)[0]

    printed = block.replace("http://127.0.0.1:8080", ion_sandbox.url)

    assert f"\n\n{printed}\n" in ion_sandbox.output


def test_the_banner_describes_the_demo_people_as_demo_py_does(ion_sandbox: IonSandbox) -> None:
    spec = importlib.util.spec_from_file_location("demo_script", ROOT / "demo.py")
    assert spec is not None
    assert spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)

    for username, name, described in demo.PEOPLE:
        assert f"{username:<12} {name} ({described})" in ion_sandbox.output


def test_env_vars_set_client_id_and_secret(sign_in: Any) -> None:
    env = {"ION_SANDBOX_CLIENT_ID": "env-id", "ION_SANDBOX_CLIENT_SECRET": "env-secret"}
    with IonSandbox(env=env) as sandbox:
        assert (sandbox.client_id, sandbox.client_secret) == ("env-id", "env-secret")
        assert 'SOCIAL_AUTH_ION_KEY = "env-id"' in sandbox.output
        assert sign_in(sandbox)["token_type"] == "Bearer"


def test_flags_set_client_ids_and_secrets() -> None:
    args = [
        "--client-id",
        "flag-id",
        "--client-secret",
        "flag-secret",
        "--oidc-client-id",
        "oidc-id",
        "--oidc-client-secret",
        "oidc-secret",
    ]
    with IonSandbox(args=args) as sandbox:
        output = sandbox.output

    assert 'SOCIAL_AUTH_ION_KEY = "flag-id"' in output
    assert 'SOCIAL_AUTH_ION_SECRET = "flag-secret"' in output
    assert 'SOCIAL_AUTH_ION_OIDC_KEY = "oidc-id"' in output
    assert 'SOCIAL_AUTH_ION_OIDC_SECRET = "oidc-secret"' in output


def test_state_is_kept_across_restarts(tmp_path: Path, sign_in: Any) -> None:
    with IonSandbox(data_dir=tmp_path) as sandbox:
        tokens = sign_in(sandbox)
        kid = jwks_kid(sandbox)

    with IonSandbox(data_dir=tmp_path) as sandbox:
        assert profile(sandbox, tokens["access_token"]).status_code == 200
        assert jwks_kid(sandbox) == kid


def test_reset_forgets_tokens_and_makes_a_new_key(tmp_path: Path, sign_in: Any) -> None:
    with IonSandbox(data_dir=tmp_path) as sandbox:
        tokens = sign_in(sandbox)
        kid = jwks_kid(sandbox)

    with IonSandbox(data_dir=tmp_path, args=["--reset"]) as sandbox:
        assert profile(sandbox, tokens["access_token"]).status_code == 403
        assert jwks_kid(sandbox) != kid


def test_redirect_uris_added_on_a_restart_are_kept_with_the_old_ones(
    tmp_path: Path,
) -> None:
    with IonSandbox(data_dir=tmp_path, redirect_uris=["http://127.0.0.1:7000/a/"]):
        pass

    with IonSandbox(data_dir=tmp_path, redirect_uris=["http://127.0.0.1:7000/b/"]) as sandbox:
        output = sandbox.output

    assert "http://127.0.0.1:7000/a/ http://127.0.0.1:7000/b/" in output


def test_fixed_port_is_used(unused_port: int) -> None:
    with IonSandbox(port=unused_port) as sandbox:
        assert sandbox.url == f"http://127.0.0.1:{unused_port}"
        assert requests.get(f"{sandbox.url}/login/", timeout=10).status_code == 200


def test_sigint_stops_the_sandbox_cleanly(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "ion_oauth.sandbox", "--port", "0", "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("Listening on"):
            break
    process.send_signal(signal.SIGINT)

    assert process.wait(timeout=20) == 0
    assert "ion-sandbox: stopped" in process.stdout.read()


def test_data_dir_defaults_to_ion_sandbox_in_the_current_directory(tmp_path: Path) -> None:
    result = run_cli("--people", "missing.json", cwd=tmp_path)

    assert result.returncode == 2
    assert (tmp_path / ".ion-sandbox" / "oidc-rsa-key.pem").exists()


def test_data_dir_can_come_from_the_environment(tmp_path: Path) -> None:
    data_dir = tmp_path / "from-env"

    run_cli("--people", "missing.json", cwd=tmp_path, ION_SANDBOX_DATA_DIR=str(data_dir))

    assert (data_dir / "oidc-rsa-key.pem").exists()


PERSON = {
    "id": 40,
    "ion_username": "2029kpark",
    "first_name": "Kim",
    "last_name": "Park",
    "user_type": "student",
    "graduation_year": 2029,
}


def test_new_data_dirs_start_from_a_cached_migrated_database(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with IonSandbox(env={"XDG_CACHE_HOME": str(cache)}):
        (template,) = (cache / "ion-sandbox").glob("migrated-*.sqlite3")
        cached = template.read_bytes()

    with IonSandbox(env={"XDG_CACHE_HOME": str(cache)}) as sandbox:
        assert requests.get(f"{sandbox.url}/login/", timeout=10).status_code == 200
    assert template.read_bytes() == cached


def test_people_file_adds_people_with_ions_profile_fields(tmp_path: Path, sign_in: Any) -> None:
    people = tmp_path / "people.json"
    people.write_text(json.dumps([PERSON]))

    with IonSandbox(args=["--people", str(people)]) as sandbox:
        body = profile(sandbox, sign_in(sandbox, 40)["access_token"]).json()

    assert body["id"] == 40
    assert body["ion_username"] == "2029kpark"
    assert body["tj_email"] == "2029kpark@tjhsst.edu"
    assert body["display_name"] == "Kim Park"
    assert body["graduation_year"] == 2029
    assert body["is_student"] is True
    assert "student_id" not in body
    recorded = Path(__file__).parent.parent / "fixtures" / "ion" / "profile_student.json"
    assert list(body) == list(json.loads(recorded.read_text()))


def test_grade_follows_the_graduation_year(tmp_path: Path, sign_in: Any) -> None:
    people = tmp_path / "people.json"
    people.write_text(
        json.dumps(
            [PERSON, {**PERSON, "id": 41, "ion_username": "2020old", "graduation_year": 2020}]
        )
    )

    with IonSandbox(args=["--people", str(people)]) as sandbox:
        current = profile(sandbox, sign_in(sandbox, 40)["access_token"]).json()["grade"]
        former = profile(sandbox, sign_in(sandbox, 41)["access_token"]).json()["grade"]

    assert current["number"] in (9, 10, 11)
    assert current["name"] in ("freshman", "sophomore", "junior")
    assert former == {"number": 13, "name": "graduate"}


def test_people_file_updates_a_person_with_the_same_id(tmp_path: Path, sign_in: Any) -> None:
    people = tmp_path / "people.json"
    people.write_text(
        json.dumps([{**PERSON, "id": 1, "ion_username": "2027jdoe", "nickname": "Johnny"}])
    )

    with IonSandbox(args=["--people", str(people)]) as sandbox:
        body = profile(sandbox, sign_in(sandbox, 1)["access_token"]).json()

    assert body["nickname"] == "Johnny"
    assert body["short_name"] == "Johnny"


def test_people_without_an_id_get_the_next_free_one(tmp_path: Path) -> None:
    people = tmp_path / "people.json"
    entry = {k: v for k, v in PERSON.items() if k != "id"}
    people.write_text(json.dumps([{**entry, "user_type": "teacher", "graduation_year": None}]))

    with IonSandbox(args=["--people", str(people)]) as sandbox:
        output = sandbox.output

    assert "6  2029kpark" in output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{}", "must hold a JSON list"),
        ("[1]", "must be a JSON object"),
        ("not json", "Expecting value"),
        (json.dumps([{**PERSON, "shoe_size": 9}]), "unknown keys shoe_size"),
        (json.dumps([{"ion_username": "x"}]), "missing first_name, last_name"),
        (json.dumps([{**PERSON, "graduation_year": "2029"}]), "graduation_year has the wrong type"),
        (json.dumps([{**PERSON, "id": True}]), "id has the wrong type"),
        (json.dumps([{**PERSON, "id": 0}]), "id must be 1 or more"),
        (json.dumps([{**PERSON, "ion_username": "msmith"}]), "already belongs to person 2"),
    ],
)
def test_bad_people_file_is_refused_with_a_clear_message(
    tmp_path: Path, content: str, message: str
) -> None:
    people = tmp_path / "people.json"
    people.write_text(content)

    result = run_cli("--data-dir", str(tmp_path / "data"), "--people", str(people))

    assert result.returncode == 2
    assert message in result.stderr


def test_missing_people_file_is_refused(tmp_path: Path) -> None:
    result = run_cli("--data-dir", str(tmp_path), "--people", str(tmp_path / "nope.json"))

    assert result.returncode == 2
    assert "nope.json" in result.stderr


def test_a_busy_port_is_named_with_what_to_do_instead_of_a_traceback(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        result = subprocess.run(
            [sys.executable, "-m", "ion_oauth.sandbox", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
            check=False,
        )

    assert result.returncode == 2
    assert result.stderr == (
        f"ion-sandbox: Port {port} is in use. Stop what uses it, or pick another with --port.\n"
    )


def test_ion_sandbox_raises_with_the_output_when_the_sandbox_cannot_start(
    tmp_path: Path,
) -> None:
    sandbox = IonSandbox(args=["--people", str(tmp_path / "nope.json")])

    with pytest.raises(IonSandboxError, match=r"nope\.json"):
        sandbox.start()


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
