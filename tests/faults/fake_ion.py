"""A fake Ion on loopback that misbehaves on demand.

A real HTTP server on ``127.0.0.1`` (free port, one thread per connection, in the test
process) so the backend's requests go through the whole HTTP stack: sockets, timeouts,
``Content-Length``, decoding. Each endpoint answers with a :data:`Reply`, a function that
writes whatever it likes to the socket; the factories below build Ion's normal answers and
every fault the fault suite needs. The server speaks HTTP/1.0 and closes every connection,
so a fault never leaks into the next request through a pooled connection.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ion"
TOKEN_PATH = "/oauth/token/"
TOKEN_SECRETS = ("access_token", "refresh_token")
PROFILE_PATH = "/api/profile"
#: How long a stalled reply holds its connection at most; :meth:`FakeIon.reset` ends it sooner.
HOLD_SECONDS = 10.0
#: ``SOCIAL_AUTH_ION_TIMEOUT`` for the fault suite: short, so a slow fault costs little,
#: and still ample for a loopback answer on a busy machine.
TIMEOUT = 0.3

Reply = Callable[["_Handler"], None]


def ion_fixture(name: str) -> Any:
    """One of the bodies recorded from a real Ion (tests/fixtures/ion/)."""
    return json.loads((FIXTURES / name).read_text())


@dataclass(frozen=True)
class Received:
    """One request the fake Ion received."""

    method: str
    path: str
    headers: Mapping[str, str]
    form: Mapping[str, str]


@dataclass
class FakeIon:
    """A scriptable Ion: ``url`` to point the site at, ``replies`` per path, what it received.

    Without a script it answers like Ion: a fresh Bearer token for every exchange and
    the recorded student profile.
    """

    replies: dict[str, Reply] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    #: Every token this fake handed out, so tests can look for them where they must not be.
    issued: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _release: threading.Event = field(default_factory=threading.Event)
    _serial: Iterator[int] = field(default_factory=itertools.count)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: what ``SOCIAL_AUTH_ION_BASE_URL`` should be."""
        assert self._server is not None, "the fake Ion is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        """Listen on a free loopback port and serve from a daemon thread."""
        fake = self

        class Handler(_Handler):
            ion = fake

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, name="fake-ion", daemon=True).start()
        self._server = server

    def stop(self) -> None:
        """Release stalled replies, stop serving and close the listening socket."""
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def reset(self) -> None:
        """Back to behaving like Ion: no script, nothing received, stalled replies let go."""
        self._release.set()
        self._release = threading.Event()
        self.replies.clear()
        self.received.clear()
        self.issued.clear()

    def hold(self) -> None:
        """Wait, as a stalled reply does, until the test is over (or :data:`HOLD_SECONDS`)."""
        self._release.wait(HOLD_SECONDS)

    def secrets(self) -> set[str]:
        """Every secret that crossed the wire: client secret, code, PKCE verifier, tokens."""
        sent = {
            value
            for request in self.received
            for name, value in request.form.items()
            if name in {"client_secret", "code", "code_verifier", "refresh_token"}
        }
        return {value for value in sent | set(self.issued) if value}

    def new_token(self) -> dict[str, Any]:
        """A token response shaped like Ion's, with values never handed out before."""
        serial = next(self._serial)
        token: dict[str, Any] = ion_fixture("token_response.json")
        token["access_token"] = f"fake-ion-access-{serial}-kD2VfQn8s1bXwY3p"
        token["refresh_token"] = f"fake-ion-refresh-{serial}-Pz7QwE2rT9yU4iO1"
        self.issued += [token["access_token"], token["refresh_token"]]
        return token


class _Handler(BaseHTTPRequestHandler):
    ion: FakeIon
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        # Read the whole request before answering: closing a socket with unread input
        # makes the kernel send a reset, and the client would see that instead of the fault.
        body = self.rfile.read(length).decode("utf-8") if length else ""
        path = self.path.split("?", 1)[0]
        self.ion.received.append(
            Received(self.command, path, dict(self.headers.items()), dict(parse_qsl(body)))
        )
        reply = self.ion.replies.get(path) or _ION.get(path) or status(404, b"Not Found")
        # The client may give up first (its timeout, or a body over its size limit).
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            reply(self)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests' output is theirs."""

    def head(self, code: int, content_type: str, length: int | None, **headers: str) -> None:
        """Status line and headers; ``length`` None sends no ``Content-Length``."""
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()


# -- replies ----------------------------------------------------------------------------


def raw(
    body: bytes, code: int = 200, content_type: str = "application/json", **headers: str
) -> Reply:
    """Any body with any status; header names use ``_`` for ``-`` (``Retry_After``)."""

    def reply(handler: _Handler) -> None:
        handler.head(code, content_type, len(body), **headers)
        handler.wfile.write(body)

    return reply


def json_body(data: Any, code: int = 200, **headers: str) -> Reply:
    """A JSON body, as Ion sends its answers."""
    return raw(json.dumps(data).encode(), code, **headers)


def status(code: int, body: bytes = b"", content_type: str = "text/html") -> Reply:
    """An error page, the way a proxy in front of Ion sends one."""
    return raw(body, code, content_type)


def ion_token() -> Reply:
    """Ion's answer to a token exchange: a fresh token."""

    def reply(handler: _Handler) -> None:
        json_body(handler.ion.new_token())(handler)

    return reply


def ion_profile(**changes: Any) -> Reply:
    """The recorded student profile (byte for byte), with ``changes``; ``...`` drops a field."""
    if not changes:
        return raw((FIXTURES / "profile_student.json").read_bytes())
    profile = ion_fixture("profile_student.json")
    for name, value in changes.items():
        if value is ...:
            del profile[name]
        else:
            profile[name] = value
    return json_body(profile)


def token_without(*names: str, **changes: Any) -> Reply:
    """A fresh token response without ``names`` and with ``changes``."""

    def reply(handler: _Handler) -> None:
        token = handler.ion.new_token()
        for name in names:
            del token[name]
        token.update(changes)
        handler.ion.issued += [v for v in map(token.get, TOKEN_SECRETS) if isinstance(v, str)]
        json_body(token)(handler)

    return reply


def slow() -> Reply:
    """Accept the request and say nothing until the test ends."""

    def reply(handler: _Handler) -> None:
        handler.ion.hold()

    return reply


def stall_mid_body(body: bytes) -> Reply:
    """Send the headers and half the body, then say nothing more until the test ends."""

    def reply(handler: _Handler) -> None:
        handler.head(200, "application/json", len(body))
        handler.wfile.write(body[: len(body) // 2])
        handler.wfile.flush()
        handler.ion.hold()

    return reply


def drop_mid_body(body: bytes) -> Reply:
    """Promise the whole body in ``Content-Length``, send half, and close the connection."""

    def reply(handler: _Handler) -> None:
        handler.head(200, "application/json", len(body))
        handler.wfile.write(body[: len(body) // 2])
        handler.wfile.flush()
        handler.connection.shutdown(socket.SHUT_RDWR)

    return reply


def hang_up() -> Reply:
    """Close the connection without answering at all."""

    def reply(handler: _Handler) -> None:
        handler.connection.shutdown(socket.SHUT_RDWR)

    return reply


def oversized(size: int, *, with_length: bool = True) -> Reply:
    """Well-formed JSON of ``size`` bytes, streamed, with or without ``Content-Length``."""
    prefix, suffix = b'{"access_token": "x", "id": 1, "padding": "', b'"}'
    chunk = b"a" * 65536

    def reply(handler: _Handler) -> None:
        handler.head(200, "application/json", size if with_length else None)
        handler.wfile.write(prefix)
        left = size - len(prefix) - len(suffix)
        while left > 0:
            handler.wfile.write(chunk[:left])
            left -= len(chunk)
        handler.wfile.write(suffix)

    return reply


_ION: dict[str, Reply] = {TOKEN_PATH: ion_token(), PROFILE_PATH: ion_profile()}


@contextlib.contextmanager
def running() -> Iterator[FakeIon]:
    """A started fake Ion, stopped on exit."""
    ion = FakeIon()
    ion.start()
    try:
        yield ion
    finally:
        ion.stop()
