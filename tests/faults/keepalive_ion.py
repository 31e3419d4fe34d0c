"""A fake Ion that keeps connections open, and closes them the ways real servers do.

The fault suite's other fake speaks HTTP/1.0 and closes every connection after its answer,
so no fault leaks into the next request. This one speaks HTTP/1.1 and keeps connections
alive, like gunicorn or nginx in front of the real Ion, and can close a kept-alive
connection:

- ``idle``: once it has been idle ``idle`` seconds (a keep-alive timeout);
- ``on_next``: when the next request arrives on it after ``idle`` seconds or more (it reads
  the request and closes without answering: the race a keep-alive timeout loses);
- ``after``: after ``after`` answers (a worker recycled after N requests), without warning.

and, for what must never be resent, misbehave on a *reused* connection: ``partial`` (send
part of the status line, then close), ``stall`` (say nothing), or on every connection:
``hang_up`` (close without answering, even a new one), ``trickle`` (the body a byte at a
time).

A real server on ``127.0.0.1``, one thread per connection, in the test process.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from faults.fake_ion import FIXTURES, PROFILE_PATH, TOKEN_PATH, ion_fixture


@dataclass(frozen=True)
class Seen:
    """One request as this Ion read it: on which connection, the how-manieth on it."""

    method: str
    path: str
    headers: dict[str, str]
    connection: int
    nth: int


@dataclass
class KeepAliveIon:
    """See the module docstring; set ``mode`` (and ``idle`` / ``after``) before requests."""

    mode: str = "keep"
    idle: float = 0.0
    after: int = 1
    #: ``trickle``: seconds between the bytes of the body.
    trickle_interval: float = 0.05
    seen: list[Seen] = field(default_factory=list, repr=False)
    #: Requests read and left unanswered because the connection was closed instead.
    unanswered: int = 0
    #: Connections closed while idle (``idle`` and ``after``).
    closed_idle: int = 0
    #: ``trickle``: bytes of the body written before the client went away.
    trickled: int = 0
    connections: int = 0
    _listener: socket.socket | None = None
    _release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _serial: Iterator[int] = field(default_factory=itertools.count)

    @property
    def url(self) -> str:
        assert self._listener is not None
        host, port = self._listener.getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        listener = socket.create_server(("127.0.0.1", 0))
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        self._release.set()
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def reset(self, mode: str = "keep", **options: Any) -> None:
        """Behave as ``mode`` from now on, with nothing seen (old connections stay open)."""
        self._release.set()
        self._release = threading.Event()
        self.mode = mode
        self.idle = options.get("idle", 0.0)
        self.after = options.get("after", 1)
        self.trickle_interval = options.get("trickle_interval", 0.05)
        self.seen = []
        self.unanswered = self.closed_idle = self.trickled = self.connections = 0

    # -- serving --------------------------------------------------------------------

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                serial = self.connections
            threading.Thread(target=self._serve, args=(conn, serial), daemon=True).start()

    def _serve(self, conn: socket.socket, serial: int) -> None:
        with conn, contextlib.suppress(OSError):
            reader = conn.makefile("rb")
            answered = 0
            last = time.monotonic()
            while True:
                if self.mode == "idle" and answered:
                    conn.settimeout(self.idle)
                    try:
                        ready = reader.peek(1)
                    except TimeoutError:
                        self._count("closed_idle")
                        return
                    conn.settimeout(None)
                    if not ready:
                        return
                request = _read_request(reader)
                if request is None:
                    return
                method, path, headers = request
                reused = answered > 0
                self.seen.append(Seen(method, path, headers, serial, answered + 1))
                if reused and self._close_unanswered(time.monotonic() - last):
                    self._count("unanswered")
                    return
                if reused and self.mode == "partial":
                    conn.sendall(b"HTTP/1.1 2")
                    return
                if reused and self.mode == "stall":
                    self._release.wait(10)
                    return
                if self.mode == "hang_up":
                    self._count("unanswered")
                    return
                self._answer(conn, method, path)
                answered += 1
                last = time.monotonic()
                if self.mode == "after" and answered >= self.after:
                    self._count("closed_idle")
                    return

    def _close_unanswered(self, idle: float) -> bool:
        return self.mode == "on_next" and idle >= self.idle

    def _count(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def _answer(self, conn: socket.socket, method: str, path: str) -> None:
        if path == TOKEN_PATH:
            token = ion_fixture("token_response.json")
            serial = next(self._serial)
            token["access_token"] = f"keepalive-access-{serial}-Qm3ZxV8r"
            token["refresh_token"] = f"keepalive-refresh-{serial}-Lp5WcN1t"
            body = json.dumps(token).encode()
        elif path == PROFILE_PATH:
            body = (FIXTURES / "profile_student.json").read_bytes()
        else:
            body = json.dumps({"method": method, "path": path}).encode()
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        if self.mode != "trickle":
            conn.sendall(head + body)
            return
        conn.sendall(head)
        for byte in body:
            if self._release.wait(self.trickle_interval):
                return
            conn.sendall(bytes([byte]))
            self._count("trickled")


def _read_request(reader: Any) -> tuple[str, str, dict[str, str]] | None:
    """One request's line, headers and body from ``reader``; None at the end of input."""
    line = reader.readline()
    if not line:
        return None
    method, target, _version = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while (header := reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = header.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    if length:
        reader.read(length)
    return method, target.split("?", 1)[0], headers


@contextlib.contextmanager
def running() -> Iterator[KeepAliveIon]:
    ion = KeepAliveIon()
    ion.start()
    try:
        yield ion
    finally:
        ion.stop()
