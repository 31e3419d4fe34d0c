"""``python3 demo.py``: both servers up with one command, both gone after Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc"),
]

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 90.0
READY = "Press Ctrl-C to stop."


def children_of(pid):
    """The ids of a process's children, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            found.append(int(stat.parent.name))
    return found


def is_running(pid):
    """Whether the process exists and is not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def command_line(pid):
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def refuses_connections(port):
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


class Demo:
    """``demo.py --no-install`` on the given ports, with its own database and sandbox data."""

    def __init__(self, tmp_path, site_port, ion_port):
        self.site_port, self.ion_port = site_port, ion_port
        self.log = tmp_path / f"demo-{site_port}.log"
        env = {
            **os.environ,
            "EXAMPLE_DATABASE": str(tmp_path / "example.sqlite3"),
            "ION_SANDBOX_DATA_DIR": str(tmp_path / "ion-sandbox"),
        }
        # pytest-django set the unit tests' settings; the example picks its own.
        env.pop("DJANGO_SETTINGS_MODULE", None)
        command = [sys.executable, str(ROOT / "demo.py"), "--no-install"]
        command += ["--port", str(site_port), "--ion-port", str(ion_port)]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.servers = []

    def output(self):
        return self.log.read_text(errors="replace")

    def wait_until_ready(self):
        """Wait for the demo's "ready" line; remember the servers it started."""
        deadline = time.monotonic() + TIMEOUT
        while READY not in self.output():
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"demo.py did not get ready:\n{self.output()}")
            time.sleep(0.1)
        self.servers = children_of(self.process.pid)
        return self

    def running_servers(self):
        return [pid for pid in self.servers if is_running(pid)]

    def stop(self):
        """Leave nothing behind, whatever the test did."""
        for pid in [self.process.pid, *self.servers, *children_of(self.process.pid)]:
            if is_running(pid):
                os.kill(pid, signal.SIGKILL)
        self.process.wait()


@pytest.fixture
def demo(tmp_path, free_port):
    started = []

    def start(site_port=None):
        started.append(Demo(tmp_path, site_port or free_port(), free_port()))
        return started[-1]

    yield start
    for run in started:
        run.stop()


def test_demo_serves_the_example_and_the_sandbox_until_ctrl_c_stops_both(demo):
    run = demo().wait_until_ready()
    site, ion = f"http://127.0.0.1:{run.site_port}", f"http://127.0.0.1:{run.ion_port}"
    assert f'Open {site}/ and click "Log in with Ion".' in run.output()
    assert all(person in run.output() for person in ("2027jdoe", "msmith", "eadmin"))
    assert len(run.running_servers()) == 2
    assert "Log in with Ion" in requests.get(f"{site}/", timeout=10).text
    discovery = requests.get(f"{ion}/oauth/.well-known/openid-configuration/", timeout=10)
    assert discovery.json()["issuer"] == f"{ion}/oauth"

    run.process.send_signal(signal.SIGINT)

    assert run.process.wait(TIMEOUT) == 0
    assert run.running_servers() == []
    assert refuses_connections(run.site_port)
    assert refuses_connections(run.ion_port)


def test_when_one_server_dies_the_demo_stops_the_other_and_fails(demo):
    run = demo().wait_until_ready()
    sandbox = next(pid for pid in run.servers if "ion_oauth.sandbox" in command_line(pid))

    os.kill(sandbox, signal.SIGKILL)

    assert run.process.wait(TIMEOUT) == 1
    assert run.running_servers() == []
    assert "The Ion sandbox stopped" in run.output()


def test_demo_refuses_a_port_already_in_use(demo):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        run = demo(site_port=port)

        assert run.process.wait(TIMEOUT) == 1
    assert f"Port {port} is in use" in run.output()
