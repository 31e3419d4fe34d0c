"""A real Chromium (Debian's, driven by Playwright) against real servers on loopback: the
Ion sandbox and the example project. A failing browser test leaves a screenshot in
``test-artifacts/``."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
import requests

from ion_oauth.testing import IonSandbox

ROOT = Path(__file__).resolve().parents[2]
MANAGE = ROOT / "example_project" / "manage.py"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_TIMEOUT = 60.0


def missing(what: str) -> NoReturn:
    """Skip a test whose tool is missing, except in CI, where that is a broken setup."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} (CI=true, so this fails instead of skipping)", pytrace=False)
    pytest.skip(what)


def chromium_path() -> str | None:
    """Debian's Chromium; Playwright's own browser downloads are never used."""
    debian = Path("/usr/bin/chromium")
    return shutil.which("chromium") or (str(debian) if debian.exists() else None)


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_answers(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait for an HTTP answer at ``url``; fail with the server's log if it dies first."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    with requests.Session() as http:
        http.trust_env = False
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"server exited with {process.returncode}:\n{log.read_text()}")
            try:
                http.get(url, timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
    pytest.fail(f"nothing answered at {url} within {STARTUP_TIMEOUT} s:\n{log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server we started, for good."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(name="missing", scope="session")
def missing_fixture() -> Callable[[str], NoReturn]:
    return missing


@pytest.fixture(name="free_port", scope="session")
def free_port_fixture() -> Callable[[], int]:
    return free_port


@pytest.fixture(name="wait_until_answers", scope="session")
def wait_until_answers_fixture() -> Callable[[str, subprocess.Popen[bytes], Path], None]:
    return wait_until_answers


@pytest.fixture(name="stop_server", scope="session")
def stop_server_fixture() -> Callable[[subprocess.Popen[bytes]], None]:
    return stop


@pytest.fixture(scope="session")
def example_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, IonSandbox]]:
    """The example project on a free port (its own SQLite file), and the sandbox it uses."""
    tmp = tmp_path_factory.mktemp("example")
    site = f"http://127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        # pytest-django put the unit tests' settings here; the example has its own.
        "DJANGO_SETTINGS_MODULE": "example.settings",
        "EXAMPLE_DATABASE": str(tmp / "example.sqlite3"),
    }
    # Migrate while the sandbox starts up; each takes a few seconds.
    migrate = subprocess.Popen([sys.executable, MANAGE, "migrate", "--noinput", "-v", "0"], env=env)
    with IonSandbox(redirect_uris=[f"{site}/complete/ion/", f"{site}/complete/ion-oidc/"]) as ion:
        assert migrate.wait(STARTUP_TIMEOUT) == 0, "the example's migrate failed"
        env.update(ION_BASE_URL=ion.url, ION_CLIENT_ID=ion.client_id)
        env.update(ION_CLIENT_SECRET=ion.client_secret)
        env.update(
            ION_OIDC_CLIENT_ID=ion.oidc_client_id, ION_OIDC_CLIENT_SECRET=ion.oidc_client_secret
        )
        log = tmp / "runserver.log"
        with log.open("wb") as out:
            server = subprocess.Popen(
                [sys.executable, MANAGE, "runserver", site.removeprefix("http://"), "--noreload"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until_answers(f"{site}/", server, log)
            yield site, ion
        finally:
            stop(server)


@pytest.fixture(scope="session")
def example_site(example_stack: tuple[str, IonSandbox]) -> str:
    """The example project's URL."""
    return example_stack[0]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the run; each test gets its own context (cookies)."""
    path = chromium_path()
    if path is None:
        missing("Chromium is not installed (apt-get install chromium)")
    try:
        # Imported here so a missing playwright skips (or fails in CI) with a clear message.
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright package is not installed (pip install playwright)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=path, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser tab with no cookies; screenshotted if the test fails."""
    context = browser.new_context()
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        save_screenshot(tab, request.node.nodeid)
    context.close()


def save_screenshot(tab: Any, nodeid: str, directory: Path = ARTIFACTS) -> Path:
    """Save what the tab shows to ``test-artifacts/<test id>.png``; return the path."""
    directory.mkdir(exist_ok=True)
    path = directory / (re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid) + ".png")
    tab.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(name="save_screenshot", scope="session")
def save_screenshot_fixture() -> Callable[..., Path]:
    return save_screenshot


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the test item, so ``page`` knows if the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
