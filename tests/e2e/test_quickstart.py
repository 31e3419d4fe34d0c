"""The README's quickstart is a test: a project made by ``django-admin startproject``, the
README's blocks pasted at the end of its files (read from README.md, never copied here),
``manage.py check`` silent, ``migrate``, ``runserver`` and the sandbox on free ports, then a
person logs in and out, with the scripted browser on every Django of the grid and once in
Chromium.

The one liberty taken: the sandbox and the site listen on free ports instead of 8080 and
8000, so the sandbox's URL in the pasted block is the one this sandbox printed (the test
checks it printed exactly the README's block), and the site's port differs from the one
the sandbox registered, which Ion's loopback rule (any port on 127.0.0.1) accepts.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ion_oauth.testing import IonBrowser, IonSandbox

pytestmark = pytest.mark.quickstart

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"<!-- quickstart:([\w-]+) -->\n```(\w+)\n(.*?)```", re.DOTALL)
SANDBOX_URL = "http://127.0.0.1:8080"
TIMEOUT = 120


def readme_blocks() -> dict[str, str]:
    """The quickstart's marked blocks, by name."""
    blocks = {name: body for name, _lang, body in BLOCK.findall(README.read_text())}
    assert set(blocks) >= {"settings", "sandbox", "production", "urls", "run"}, sorted(blocks)
    return blocks


def clean_env() -> dict[str, str]:
    """The environment of a person at a shell: no settings module from this test run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ION_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def django_admin() -> list[str]:
    """The ``django-admin`` of the interpreter running the tests."""
    script = Path(sys.executable).parent / "django-admin"
    return [str(script)] if script.exists() else [sys.executable, "-m", "django"]


@dataclass
class Project:
    """A project made by ``django-admin startproject mysite``."""

    root: Path

    def paste(self, file: str, block: str) -> None:
        """Paste a README block at the end of ``mysite/<file>``, as the README says."""
        path = self.root / "mysite" / file
        path.write_text(path.read_text() + "\n" + block)

    def manage(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=self.root,
            env=env or clean_env(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )


@pytest.fixture
def new_project(tmp_path: Path) -> Project:
    root = tmp_path / "mysite"
    root.mkdir()
    subprocess.run(
        [*django_admin(), "startproject", "mysite", str(root)],
        env=clean_env(),
        check=True,
        timeout=TIMEOUT,
    )
    return Project(root)


def run_commands(block: str) -> list[list[str]]:
    """The commands of the "run" block, as argument lists."""
    return [line.split() for line in block.strip().splitlines()]


@dataclass
class Stack:
    site: str
    ion: IonSandbox
    project: Project


@pytest.fixture(scope="module")
def quickstart(
    tmp_path_factory: pytest.TempPathFactory,
    free_port: Callable[[], int],
    wait_until_answers: Callable[..., None],
    stop_server: Callable[..., None],
) -> Iterator[Stack]:
    """Steps 2 to 5 of the quickstart, done as the README says."""
    blocks = readme_blocks()
    tmp = tmp_path_factory.mktemp("quickstart")
    root = tmp / "mysite"
    root.mkdir()
    subprocess.run(
        [*django_admin(), "startproject", "mysite", str(root)],
        env=clean_env(),
        check=True,
        timeout=TIMEOUT,
    )
    project = Project(root)
    with IonSandbox() as ion:
        printed = blocks["sandbox"].replace(SANDBOX_URL, ion.url)
        assert printed.strip() in ion.output, "the sandbox printed other settings than the README"
        project.paste("settings.py", blocks["settings"])
        project.paste("settings.py", printed)
        project.paste("urls.py", blocks["urls"])

        site_port = free_port()
        server = None
        log = tmp / "runserver.log"
        for command in run_commands(blocks["run"]):
            assert command[:2] == ["python", "manage.py"], command
            if command[2] == "runserver":
                with log.open("wb") as out:
                    server = subprocess.Popen(
                        [
                            sys.executable,
                            "manage.py",
                            "runserver",
                            f"127.0.0.1:{site_port}",
                            "--noreload",
                        ],
                        cwd=root,
                        env=clean_env(),
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                continue
            result = project.manage(*command[2:])
            assert result.returncode == 0, result.stdout + result.stderr
            if command[2] == "check":
                assert result.stdout == "System check identified no issues (0 silenced).\n"
                assert result.stderr == ""
        assert server is not None, "the README's run block does not start runserver"
        site = f"http://127.0.0.1:{site_port}"
        try:
            wait_until_answers(f"{site}/login/", server, log)
            yield Stack(site, ion, project)
        finally:
            stop_server(server)


def text_of(page: Any) -> str:
    """What a person reads on the page: the body's text, tags and spacing dropped."""
    body = re.sub(r"(?s).*<body[^>]*>", "", page.text)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", body)).split())


def test_a_person_logs_in_and_out_with_the_readme_alone(quickstart: Stack) -> None:
    browser = IonBrowser()
    login_page = browser.get(f"{quickstart.site}/login/")
    assert login_page.status_code == 200

    ion_login = browser.click(login_page, "Log in with Ion")
    consent = browser.pick(ion_login, 1)
    back = browser.click(consent, "Authorize")

    assert back.url == f"{quickstart.site}/login/"
    assert "You are logged in as John Doe." in text_of(back)

    out = browser.click(back, "Log out")

    assert out.url == f"{quickstart.site}/login/"
    assert "You are logged in" not in text_of(out)
    assert "Log in with Ion" in text_of(out)


def test_cancel_lands_on_the_login_error_page_with_try_again(quickstart: Stack) -> None:
    """With DEBUG on, as in every new project: a message, not Django's debug page."""
    browser = IonBrowser()
    consent = browser.pick(
        browser.click(browser.get(f"{quickstart.site}/login/"), "Log in with Ion"), 1
    )

    page = browser.click(consent, "Cancel")

    assert page.url == f"{quickstart.site}/login-error/"
    assert page.status_code == 200
    assert "You cancelled the login on Ion, so you are not logged in." in text_of(page)
    again = browser.click(page, "Try again")
    assert again.url.startswith(f"{quickstart.ion.url}/")


def test_next_brings_the_person_back_where_they_started(quickstart: Stack) -> None:
    browser = IonBrowser()
    page = browser.get(f"{quickstart.site}/login/?next=/login/%3Fcame%3Dback")
    consent = browser.pick(browser.click(page, "Log in with Ion"), 1)

    back = browser.click(consent, "Authorize")

    assert back.url == f"{quickstart.site}/login/?came=back"


def test_the_production_block_without_its_variables_is_a_check_error_not_a_crash(
    new_project: Project,
) -> None:
    blocks = readme_blocks()
    new_project.paste("settings.py", blocks["settings"])
    new_project.paste("settings.py", blocks["production"])
    new_project.paste("urls.py", blocks["urls"])

    result = new_project.manage("check")

    assert result.returncode == 1
    assert "ion_oauth.E002" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_the_sandboxs_client_id_without_its_url_is_a_check_error(new_project: Project) -> None:
    """The sandbox's id sent to the real Ion used to pass ``manage.py check`` silently."""
    blocks = readme_blocks()
    without_url = "\n".join(
        line for line in blocks["sandbox"].splitlines() if "BASE_URL" not in line
    )
    new_project.paste("settings.py", blocks["settings"])
    new_project.paste("settings.py", without_url)
    new_project.paste("urls.py", blocks["urls"])

    result = new_project.manage("check")

    assert result.returncode == 1
    assert "ion_oauth.E017" in result.stderr


def test_without_the_urls_block_check_says_what_to_add(new_project: Project) -> None:
    blocks = readme_blocks()
    new_project.paste("settings.py", blocks["settings"])
    new_project.paste("settings.py", blocks["sandbox"])

    result = new_project.manage("check")

    assert result.returncode == 1
    assert "ion_oauth.E014" in result.stderr
    assert 'include("ion_oauth.urls")' in result.stderr


@pytest.mark.e2e
def test_a_person_logs_in_and_out_in_chromium(quickstart: Stack, page: Any) -> None:
    page.goto(f"{quickstart.site}/login/")
    assert page.locator("html").get_attribute("lang") == "en-us"
    page.get_by_role("button", name="Log in with Ion").click()
    page.get_by_role("button", name="John Doe").click()
    page.get_by_role("button", name="Authorize").click()

    page.wait_for_url(f"{quickstart.site}/login/")
    assert page.locator("#ion-user").inner_text() == "John Doe"
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{quickstart.site}/login/")
    assert page.get_by_role("button", name="Log in with Ion").is_visible()
