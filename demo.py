#!/usr/bin/env python3
"""Try "Log in with Ion" with one command: a local Ion sandbox and the example site.

    python3 demo.py [--port 8000] [--ion-port 8080] [--no-install]

Creates ``.venv`` if it is missing, installs this package with its sandbox into it,
migrates the example site's database, starts the sandbox and the site, and stops both on
Ctrl-C (or both, with an error, when one of them dies). Standard library only, because it
runs before anything is installed.
"""

# S603: every command here runs this checkout's own Python with fixed arguments.
# ruff: noqa: S603

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import venv
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
#: Written after a successful install; holds what the install was made from.
STAMP = VENV / ".ion-oauth-demo-installed"
MANAGE = ROOT / "example_project" / "manage.py"
#: Where the servers run: not the repository root, whose ion_oauth/ would shadow the
#: installed package (they are the same with ``pip install -e``, not under tox).
SERVER_DIR = ROOT / "example_project"
STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
PEOPLE = (
    ("2027jdoe", "John Doe", "student, class of 2027"),
    ("msmith", "Mary Smith", "teacher"),
    ("eadmin", "Eve Admin", "teacher and eighth period admin"),
    ("2028alee", "Alex Lee", "student, class of 2028"),
    ("2029bkim", "Brian Kim", "student, class of 2029"),
)


class DemoError(Exception):
    """Something the person running the demo has to fix; the message says what."""


def say(message: str = "") -> None:
    """Print at once: whoever reads our output (a terminal, a test) sees it in order."""
    print(message, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line: ports and whether to install."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8000, help="the example site's port")
    parser.add_argument("--ion-port", type=int, default=8080, help="the Ion sandbox's port")
    parser.add_argument(
        "--no-install",
        action="store_true",
        help="create and install nothing: run with this Python if it has ion-oauth, else .venv",
    )
    return parser.parse_args(argv)


def venv_python() -> Path:
    """The interpreter inside ``.venv``."""
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def fingerprint() -> str:
    """What an install depends on: the package's metadata and where the checkout is."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    digest.update(str(ROOT).encode())
    return digest.hexdigest()


def has_packages(python: Path, *, from_checkout: bool) -> bool:
    """Whether ``python`` has ion_oauth and what the sandbox needs (``from_checkout``:
    and ion_oauth is this checkout's, as ``pip install -e`` leaves it)."""
    if not python.exists():
        return False
    check = "import ion_oauth, ion_oauth.sandbox, oauth2_provider, social_django, sys"
    if from_checkout:
        check += f"; sys.exit(not ion_oauth.__file__.startswith({str(ROOT)!r}))"
    # -I: not from the current directory, which may be this checkout's source tree.
    result = subprocess.run([python, "-I", "-c", check], capture_output=True, check=False)
    return result.returncode == 0


def prepare_python(no_install: bool) -> Path:
    """Return the Python to run the demo with, creating and filling ``.venv`` if needed."""
    python = venv_python()
    if no_install:
        for candidate in (Path(sys.executable), python):
            if has_packages(candidate, from_checkout=False):
                return candidate
        raise DemoError(
            "With --no-install, this Python or .venv must already have ion-oauth and its "
            "sandbox installed; run demo.py without --no-install to install them."
        )
    if not python.exists():
        say("Creating .venv ...")
        try:
            venv.create(VENV, with_pip=True)
        except subprocess.CalledProcessError as error:
            raise DemoError(
                "Could not create .venv with pip in it. On Debian or Ubuntu, install the "
                "python3-venv package first."
            ) from error
    if (
        STAMP.exists()
        and STAMP.read_text() == fingerprint()
        and has_packages(python, from_checkout=True)
    ):
        return python
    say("Installing ion-oauth and its sandbox into .venv (pip install -e .[sandbox]) ...")
    command: list[str | Path] = [
        python,
        "-m",
        "pip",
        "install",
        "--quiet",
        "-e",
        f"{ROOT}[sandbox]",
    ]
    if subprocess.run(command, check=False).returncode != 0:
        raise DemoError("pip could not install ion-oauth; see its output above.")
    STAMP.write_text(fingerprint())
    return python


def port_is_free(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if os.name != "nt":
            # As servers do, so a port with connections in TIME_WAIT counts as free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def answers(url: str) -> bool:
    """Whether an HTTP server answers at ``url`` (any status counts)."""
    # No proxy: an http_proxy in the environment must not intercept loopback requests.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def start(command: list[str | Path], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start a server in its own process group, so Ctrl-C reaches only us and we stop it."""
    if os.name == "nt":
        flags = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
        return subprocess.Popen(command, cwd=SERVER_DIR, env=env, creationflags=flags)
    return subprocess.Popen(command, cwd=SERVER_DIR, env=env, start_new_session=True)


def stop(servers: dict[str, subprocess.Popen[bytes]]) -> None:
    """Stop every server still running: politely, then for good."""
    for process in servers.values():
        if process.poll() is None:
            process.terminate()
    for process in servers.values():
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def check_running(servers: dict[str, subprocess.Popen[bytes]]) -> None:
    """Raise :class:`DemoError` if a server has exited."""
    for name, process in servers.items():
        code = process.poll()
        if code is not None:
            raise DemoError(f"The {name} stopped (exit code {code}); stopping the demo.")


def wait_until_up(servers: dict[str, subprocess.Popen[bytes]], urls: list[str]) -> None:
    """Wait until every URL answers, failing early if a server dies first."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    waiting = list(urls)
    while waiting:
        check_running(servers)
        if time.monotonic() > deadline:
            raise DemoError(
                f"Nothing answered at {', '.join(waiting)} within {STARTUP_TIMEOUT:.0f} s."
            )
        waiting = [url for url in waiting if not answers(url)]
        if waiting:
            time.sleep(0.2)


def run(args: argparse.Namespace, servers: dict[str, subprocess.Popen[bytes]]) -> NoReturn:
    """Prepare, start both servers into ``servers``, and watch them until one stops."""
    for flag, port in (("--port", args.port), ("--ion-port", args.ion_port)):
        if not port_is_free(port):
            raise DemoError(
                f"Port {port} is in use. Stop what uses it, or pick another with {flag}."
            )
    python = prepare_python(args.no_install)
    site = f"http://127.0.0.1:{args.port}"
    ion = f"http://127.0.0.1:{args.ion_port}"
    env = dict(os.environ)
    env.update(
        ION_BASE_URL=ion,
        ION_CLIENT_ID=env.get("ION_SANDBOX_CLIENT_ID", "ion-sandbox-client"),
        ION_CLIENT_SECRET=env.get("ION_SANDBOX_CLIENT_SECRET", "ion-sandbox-secret"),
        PYTHONUNBUFFERED="1",
    )
    sandbox: list[str | Path] = [python, "-m", "ion_oauth.sandbox", "--host", "127.0.0.1"]
    sandbox += ["--port", str(args.ion_port)]
    if "ION_SANDBOX_DATA_DIR" not in env:
        sandbox += ["--data-dir", str(ROOT / ".ion-sandbox")]
    if args.port != 8000:
        # The sandbox registers :8000 by default; tell it where this site's callback is.
        for host in ("127.0.0.1", "localhost"):
            for backend in ("ion", "ion-oidc"):
                sandbox += ["--redirect-uri", f"http://{host}:{args.port}/complete/{backend}/"]
    servers["Ion sandbox"] = start(sandbox, env)

    # Migrate while the sandbox starts up; each takes a few seconds.
    say("Preparing the example site's database ...")
    if subprocess.run(
        [python, MANAGE, "migrate", "--noinput", "-v", "0"], check=False, cwd=SERVER_DIR, env=env
    ).returncode:
        raise DemoError("The example site's migrate failed; see its output above.")

    servers["example site"] = start(
        [python, MANAGE, "runserver", f"127.0.0.1:{args.port}", "--noreload"], env
    )
    wait_until_up(servers, [f"{ion}/oauth/.well-known/openid-configuration/", f"{site}/"])

    say()
    say(f'Open {site}/ and click "Log in with Ion".')
    say(f"The Ion sandbox runs at {ion}/ ; no passwords, pick one of these demo people:")
    for username, name, what in PEOPLE:
        say(f"  {username:<9} {name:<11} {what}")
    say("Press Ctrl-C to stop.")
    while True:
        check_running(servers)
        time.sleep(0.3)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run the demo; 0 after Ctrl-C, 1 when something went wrong."""
    # Said plainly here, because on an older Python nothing is installed yet to say it.
    if sys.version_info < (3, 10):  # noqa: UP036
        say("ion-oauth needs Python 3.10 or newer.")
        return 1
    args = parse_args(argv)
    # A SIGTERM (from a service manager or a test) stops the demo like Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    servers: dict[str, subprocess.Popen[bytes]] = {}
    try:
        run(args, servers)
    except KeyboardInterrupt:
        say("\nStopping ...")
        return 0
    except DemoError as error:
        print(f"demo.py: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        # A second Ctrl-C must not leave a server running half-stopped.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop(servers)


if __name__ == "__main__":
    sys.exit(main())
