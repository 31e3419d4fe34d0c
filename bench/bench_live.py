"""The live half of the benchmark: the Ion sandbox and the example site, each in a process
of its own on loopback, and scripted browsers logging in through them; and what eighth
period costs (:mod:`bench_eighth`).

Counted on both ends: the sandbox's ``/sandbox/stats`` (token and profile requests,
accepted TCP connections) and the site's ``/bench/site-stats`` (every request it sent
to Ion, new connections it opened; see :mod:`bench_site_probe`). The sandbox's connection count
also includes the browsers' connections, which this process counts and subtracts.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter as Tally
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bench_contention as contention
import bench_eighth as eighth
import bench_site_probe as site_probe
import requests

from ion_oauth.testing import IonBrowser, IonLoginError, IonSandbox

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
EXAMPLE = REPO / "example_project"
#: Ion sandbox person ids of the benchmark's students (the three demo people stay as they are).
FIRST_PERSON = 101
#: The example site's session cookie (example_project/settings.py).
SITE_SESSION_COOKIE = "example_sessionid"
#: The last line of a logged traceback: ``sqlite3.OperationalError: database is locked``.
_EXCEPTION_LINE = re.compile(r"^[\w.]+(Error|Exception): ")


class Browser:
    """One person (a sandbox person id) logging in to the site again and again, with the
    package's scripted browser: it stays logged in to the sandbox (the person picker is shown
    once, the consent page every time, as on Ion), and each login starts a new session on
    the site."""

    def __init__(self, site: str, person: int, backend: str = "ion") -> None:
        self.site = site
        self.person = person
        self.backend = backend
        self.browser = IonBrowser(timeout=60.0)
        #: Logins started, successful or not.
        self.attempts = 0

    def login(self) -> None:
        """The site's login page and button, the sandbox's pages, the callback; raises
        :class:`IonLoginError` (or a ``requests`` error) unless the site logs the person in."""
        self.attempts += 1
        self.browser.session.cookies.pop(SITE_SESSION_COOKIE, None)
        authorize = self.browser.begin(self.site, backend=self.backend)
        self.browser.complete(self.browser.authorize(authorize, username=self.person))

    def get(self, url: str) -> requests.Response:
        """GET without following redirects."""
        return self.browser.get(url, follow=False)

    def close(self) -> None:
        """Close the connections this browser keeps open."""
        self.browser.close()


def causes(messages: list[str]) -> dict[str, int]:
    """Error messages counted, most frequent first."""
    return dict(Tally(messages).most_common(10))


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def people_file(directory: Path, count: int) -> Path:
    """A ``--people`` file with ``count`` students, ids from :data:`FIRST_PERSON`."""
    people = [
        {
            "id": FIRST_PERSON + index,
            "ion_username": f"2027bench{index:02d}",
            "first_name": "Bench",
            "last_name": f"Student {index:02d}",
            "user_type": "student",
            "graduation_year": 2027,
        }
        for index in range(count)
    ]
    path = directory / "people.json"
    path.write_text(json.dumps(people))
    return path


class Site:
    """The example project under ``runserver`` (threaded), with ``bench_site_settings``."""

    def __init__(self, directory: Path, port: int, ion: IonSandbox) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.port = port
        self.log = directory / "site.log"
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(BENCH), str(EXAMPLE)]),
            "DJANGO_SETTINGS_MODULE": "bench_site_settings",
            "EXAMPLE_DATABASE": str(directory / "site.sqlite3"),
            "ION_BASE_URL": ion.url,
            "ION_CLIENT_ID": ion.client_id,
            "ION_CLIENT_SECRET": ion.client_secret,
            "ION_OIDC_CLIENT_ID": ion.oidc_client_id,
            "ION_OIDC_CLIENT_SECRET": ion.oidc_client_secret,
            "PYTHONUNBUFFERED": "1",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def manage(self, *args: str) -> list[str]:
        """The command line of ``manage.py`` with these arguments."""
        return [sys.executable, str(EXAMPLE / "manage.py"), *args]

    def start(self) -> None:
        """Migrate a fresh database, start the server and wait until it answers."""
        subprocess.run(  # noqa: S603 - our own interpreter and project
            self.manage("migrate", "--verbosity", "0"), env=self.env, check=True
        )
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(  # noqa: S603
                self.manage("runserver", f"127.0.0.1:{self.port}", "--noreload", "--skip-checks"),
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                requests.get(self.url + "/bench/site-stats", timeout=5)
            except requests.ConnectionError:
                time.sleep(0.1)
            else:
                return
        self.stop()
        raise RuntimeError(f"the example site did not start:\n{self.log.read_text()}")

    def stop(self) -> None:
        """Stop the server."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        self.process = None

    def exceptions(self) -> dict[str, int]:
        """The exceptions the server logged (with DEBUG on, Django logs each 500's traceback),
        by their last line, most frequent first."""
        lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        found = Tally(line for line in lines if _EXCEPTION_LINE.match(line))
        return dict(found.most_common(10))

    def stats(self, *, reset: bool = False) -> dict[str, Any]:
        """What the site sent to Ion since the last reset (``reset``: and reset)."""
        method = requests.post if reset else requests.get
        data: dict[str, Any] = method(self.url + "/bench/site-stats", timeout=10).json()
        return data


@dataclass
class Counters:
    """Requests to Ion and new connections to Ion during one phase, from both ends."""

    logins: int = 0
    errors: int = 0
    seconds: float = 0.0
    sandbox: dict[str, Any] = field(default_factory=dict)
    site: dict[str, Any] = field(default_factory=dict)
    browser_connections_to_ion: int = 0
    error_messages: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def attempt(self, browser: Browser) -> None:
        """One login by ``browser``, counted as a login or as an error."""
        try:
            browser.login()
        except (IonLoginError, requests.RequestException) as error:
            with self.lock:
                self.errors += 1
                self.error_messages.append(f"{type(error).__name__}: {error}")
        else:
            with self.lock:
                self.logins += 1

    def per_login(self, ion_address: str) -> dict[str, Any]:
        """The phase's figures; requests and connections are divided by the logins
        attempted, since a failed login costs requests too."""
        logins = max(self.logins + self.errors, 1)
        tokens = self.sandbox["token_requests"]
        sandbox_requests = sum(tokens.values()) + self.sandbox["profile_requests"]
        site_requests = {
            key.split(" ", 1)[1]: value
            for key, value in self.site["requests"].items()
            if key.startswith(ion_address + " ")
        }
        # The sandbox counted the browsers' connections and the one carrying /sandbox/stats.
        sandbox_connections = self.sandbox["connections"] - self.browser_connections_to_ion - 1
        return {
            "logins": self.logins,
            "errors": self.errors,
            "seconds": round(self.seconds, 2),
            "logins_per_second": self.logins / self.seconds if self.seconds else 0.0,
            "requests_per_login": sandbox_requests / logins,
            "token_requests_per_login": {k: v / logins for k, v in tokens.items()},
            "profile_requests_per_login": self.sandbox["profile_requests"] / logins,
            "site_requests_per_login": sum(site_requests.values()) / logins,
            "site_requests_by_path": site_requests,
            "new_connections_per_login": sandbox_connections / logins,
            "site_new_connections_per_login": self.site["connections"].get(ion_address, 0) / logins,
            "error_causes": causes(self.error_messages),
        }


class Bench:
    """The sandbox and the site, running; :meth:`logins` drives logins through them."""

    def __init__(self, ion: IonSandbox, site: Site) -> None:
        self.ion = ion
        self.site = site
        self.ion_address = ion.url.removeprefix("http://")

    @contextmanager
    def counting(self) -> Iterator[Counters]:
        """Zero every counter, run the body, then read them all."""
        counters = Counters()
        self.ion.reset_stats()
        self.site.stats(reset=True)
        site_probe.snapshot(reset=True)
        start = time.monotonic()
        yield counters
        counters.seconds = time.monotonic() - start
        counters.site = self.site.stats()
        counters.sandbox = self.ion.stats()
        mine = site_probe.snapshot()
        counters.browser_connections_to_ion = mine["connections"].get(self.ion_address, 0)

    def logins(self, browsers: list[Browser], *, seconds: float, counters: Counters) -> None:
        """Every browser logs in again and again, in a thread of its own, for ``seconds``."""
        deadline = time.monotonic() + seconds

        def user(browser: Browser) -> None:
            while time.monotonic() < deadline:
                counters.attempt(browser)

        threads = [threading.Thread(target=user, args=(b,)) for b in browsers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def first_logins(self, browsers: list[Browser], *, concurrency: int) -> dict[str, Any]:
        """Each browser's first login (person picker, user created on the site)."""
        counters = Counters()
        queue = list(browsers)

        def worker() -> None:
            while True:
                with counters.lock:
                    if not queue:
                        return
                    browser = queue.pop()
                counters.attempt(browser)

        threads = [threading.Thread(target=worker) for _ in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return {
            "logins": counters.logins,
            "errors": counters.errors,
            "error_causes": causes(counters.error_messages),
        }


def run(
    *, users: tuple[int, ...], seconds: float, oidc_logins: int, refresh: bool
) -> dict[str, Any]:
    """Start the sandbox and the site, then measure every live figure."""
    site_probe.install()
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="ion-bench-") as tmp:
        directory = Path(tmp)
        port = free_port()
        site_url = f"http://127.0.0.1:{port}"
        redirect_uris = [f"{site_url}/complete/ion/", f"{site_url}/complete/ion-oidc/"]
        people = people_file(directory, max(users))
        with IonSandbox(redirect_uris=redirect_uris, args=["--people", str(people)]) as ion:
            site = Site(directory, port, ion)
            site.start()
            try:
                bench = Bench(ion, site)
                browsers = [Browser(site_url, FIRST_PERSON + i) for i in range(max(users))]
                result["first_logins"] = bench.first_logins(browsers, concurrency=8)
                result["phases"] = {}
                for count in users:
                    # Uncounted first: the site's pool of connections to Ion grows to
                    # this many users' needs; what follows is the steady state.
                    bench.logins(browsers[:count], seconds=min(3.0, seconds), counters=Counters())
                    with bench.counting() as counters:
                        bench.logins(browsers[:count], seconds=seconds, counters=counters)
                    result["phases"][str(count)] = counters.per_login(bench.ion_address)
                if oidc_logins:
                    oidc_browser = Browser(site_url, FIRST_PERSON, backend="ion-oidc")
                    browsers.append(oidc_browser)
                    result["oidc"] = measure_oidc(bench, oidc_browser, oidc_logins)
                # Before the refresh phase, which expires every token at Ion.
                result["eighth_page"] = eighth.page(bench, browsers[0], views=5)
                # Over the whole run, warm-ups included: how far the site's pool grew.
                result["site_connections_to_ion_total"] = site.stats()["connections_total"].get(
                    bench.ion_address, 0
                )
                result["login_attempts_total"] = sum(browser.attempts for browser in browsers)
                if refresh:
                    result["refresh"] = contention.run(ion, site_url, calls=50, threads=8)
                for browser in browsers:
                    browser.close()
            finally:
                site.stop()
                result["site_exceptions"] = site.exceptions()
    result["blocks_year"] = eighth.year()
    return result


def measure_oidc(bench: Bench, browser: Browser, logins: int) -> dict[str, Any]:
    """Requests to Ion per OpenID Connect login: the first (discovery and keys fetched)
    and then each one after it, with the keys cached."""
    with bench.counting() as first:
        first.attempt(browser)
    with bench.counting() as cached:
        for _ in range(logins):
            cached.attempt(browser)
    return {
        "first": first.per_login(bench.ion_address),
        "cached": cached.per_login(bench.ion_address),
    }
