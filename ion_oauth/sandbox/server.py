"""Serve the sandbox: a threaded WSGI server that counts connections and stops cleanly."""

from __future__ import annotations

import signal
import socket
import socketserver
import threading
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
from django.core.wsgi import get_wsgi_application

from ion_oauth.sandbox import stats

WSGIApp = Callable[[dict[str, Any], Any], Iterable[bytes]]


class SandboxServer(socketserver.ThreadingMixIn, WSGIServer):
    """One thread per connection; counts accepted connections for ``/sandbox/stats``."""

    daemon_threads = True

    def get_request(self) -> tuple[socket.socket, Any]:
        request = super().get_request()
        stats.count("connections")
        return request


class SandboxRequestHandler(WSGIRequestHandler):
    """Django's handler, with Nagle's algorithm off as Ion's proxy has it (``tcp_nodelay``):
    an answer's headers and body are two writes, and the second would wait for an ACK that
    the client delays by 40 ms, on every request of a kept-alive connection."""

    disable_nagle_algorithm = True


def make_server(host: str, port: int) -> SandboxServer:
    """Bind (port 0: a free one) and load the Django application."""
    server = SandboxServer((host, port), SandboxRequestHandler)
    server.set_app(one_write_at_a_time(get_wsgi_application()))
    return server


def one_write_at_a_time(app: WSGIApp) -> WSGIApp:
    """Let one request that may write (anything but GET/HEAD/OPTIONS) in at a time.

    SQLite fails a transaction that reads and then writes ("database is locked", an HTTP
    500) when another connection wrote first, which is what the token endpoint does under
    concurrent logins. The sandbox is a development tool on SQLite, so writes queue.
    """
    lock = threading.Lock()

    def locked(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD", "OPTIONS"):
            return app(environ, start_response)
        with lock:
            # Django's handler returns a fully rendered response: the write is done here.
            return app(environ, start_response)

    return locked


def serve(server: SandboxServer, on_ready: Callable[[str], None]) -> None:
    """Serve until SIGTERM or SIGINT, then return normally (so atexit handlers, such as
    coverage's, run and the SQLite data is closed cleanly)."""
    host, port = server.server_address[:2]
    url = f"http://{host!s}:{port}"

    def stop(signum: int, frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever() to return, so it cannot run in this thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    on_ready(url)
    try:
        server.serve_forever()
    finally:
        server.server_close()
