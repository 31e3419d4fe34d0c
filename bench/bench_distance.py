"""What a login costs at a distance: the callback over TLS with a simulated round-trip time.

Between a school-hosted site and ion.tjhsst.edu a round trip takes tens of milliseconds,
and a new connection costs round trips of its own: TCP's handshake, then TLS's. Here the
Ion sandbox sits behind a TLS-terminating proxy on loopback, with a certificate made for
the run (``trustme``) that the site trusts through ``REQUESTS_CA_BUNDLE``. The proxy
delays every chunk by half the RTT in each direction, and the first bytes of a new
connection by one RTT more (TCP's handshake); the kernel's netem is not needed.

Measured, in-process through Django's test client: the callback's duration (the request
to ``/complete/<backend>/``) for ``IonOauth2``, ``IonOpenIdConnect`` and, as the reference
for a backend that opens a connection per request, social-core's ``GitLabOAuth2`` (against
a GitLab-shaped fake behind the same proxy). Each is measured in the steady state (the
pool warm) and after an idle gap longer than the proxy's keep-alive. The figure is the
number of round trips the network added: (fastest duration - fastest duration with no
delay) / RTT, so Ion's and the site's own processing are not counted as distance; the
fastest of several, because on a shared machine noise only ever adds time.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import queue
import socket
import ssl
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import bench_report as report
import trustme
from django.test import Client, override_settings
from requests.adapters import HTTPAdapter

from ion_oauth import transport
from ion_oauth.testing import IonBrowser, IonSandbox

#: The proxy closes a connection idle this long, like a keep-alive timeout in front of Ion.
KEEPALIVE = 1.0
#: The idle gap before an "after an idle gap" login: longer than KEEPALIVE and MAX_IDLE.
IDLE_GAP = 1.7
SITE = "http://testserver"
BACKENDS = {
    "ion": "ion_oauth.oauth.IonOauth2",
    "ion-oidc": "ion_oauth.oidc.IonOpenIdConnect",
    "gitlab": "social_core.backends.gitlab.GitLabOAuth2",
}
PERSON = 1


# -- the delaying TLS proxy ----------------------------------------------------------------


class DelayingTLSProxy:
    """``https://127.0.0.1:<port>`` in front of ``upstream`` (plain HTTP), ``rtt`` apart.

    Two stages in this process: a relay that delays bytes (``port``, what clients use)
    and a TLS terminator behind it that forwards plaintext to ``upstream``, adding
    ``X-Forwarded-Proto: https`` to each request as Ion's proxy does.
    """

    def __init__(self, upstream: tuple[str, int], ca: trustme.CA, rtt: float) -> None:
        self.upstream = upstream
        self.rtt = rtt
        self.connections = 0
        #: Seconds the upstream server took to start answering, summed over all requests.
        self.server_seconds = 0.0
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(self._context)
        self._front = socket.create_server(("127.0.0.1", 0))
        self._tls = socket.create_server(("127.0.0.1", 0))
        self.port = self._front.getsockname()[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self._closed = False
        for target in (self._accept_front, self._accept_tls):
            threading.Thread(target=target, daemon=True).start()

    def close(self) -> None:
        self._closed = True
        self._front.close()
        self._tls.close()

    def _accept_front(self) -> None:
        while not self._closed:
            try:
                client, _ = self._front.accept()
            except OSError:
                return
            self.connections += 1
            accepted = time.monotonic()
            inner = socket.create_connection(self._tls.getsockname()[:2])
            for sock in (client, inner):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # TCP's handshake: the client may send only one RTT after it began.
            _delayed_pump(client, inner, self.rtt / 2, not_before=accepted + 1.5 * self.rtt)
            _delayed_pump(inner, client, self.rtt / 2, not_before=0.0)

    def _accept_tls(self) -> None:
        while not self._closed:
            try:
                raw, _ = self._tls.accept()
            except OSError:
                return
            threading.Thread(target=self._terminate, args=(raw,), daemon=True).start()

    def _terminate(self, raw: socket.socket) -> None:
        with contextlib.suppress(OSError, ssl.SSLError):
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            tls = self._context.wrap_socket(raw, server_side=True)
            upstream = socket.create_connection(self.upstream)
            upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sent: list[float] = []
            threading.Thread(target=self._answers, args=(upstream, tls, sent), daemon=True).start()
            _forward_requests(tls, upstream, sent)

    def _answers(self, upstream: socket.socket, client: ssl.SSLSocket, sent: list[float]) -> None:
        """Copy the answers back, adding up how long the server took to begin each."""
        with contextlib.suppress(OSError, ssl.SSLError):
            while data := upstream.recv(65536):
                if sent:
                    self.server_seconds += time.monotonic() - sent.pop()
                client.sendall(data)
        with contextlib.suppress(OSError, ssl.SSLError):
            client.close()
            upstream.close()


def _delayed_pump(
    source: socket.socket, target: socket.socket, delay: float, not_before: float
) -> None:
    """Copy ``source`` to ``target``, each chunk ``delay`` seconds later, in order."""
    chunks: queue.Queue[tuple[float, bytes]] = queue.Queue()

    def read() -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                chunks.put((max(time.monotonic() + delay, not_before), data))
        chunks.put((time.monotonic() + delay, b""))

    def write() -> None:
        with contextlib.suppress(OSError):
            while True:
                due, data = chunks.get()
                time.sleep(max(0.0, due - time.monotonic()))
                if not data:
                    break
                target.sendall(data)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    threading.Thread(target=read, daemon=True).start()
    threading.Thread(target=write, daemon=True).start()


def _forward_requests(client: ssl.SSLSocket, upstream: socket.socket, sent: list[float]) -> None:
    """Forward each request, its head with ``X-Forwarded-Proto: https`` added, noting when
    in ``sent``; closes an idle connection after :data:`KEEPALIVE` seconds."""
    reader = client.makefile("rb")
    client.settimeout(KEEPALIVE)
    try:
        while True:
            line = reader.readline()
            if not line:
                break
            head = [line]
            while (header := reader.readline()) not in (b"\r\n", b"\n", b""):
                head.append(header)
            length = next(
                (
                    int(h.split(b":", 1)[1])
                    for h in head
                    if h.lower().startswith(b"content-length:")
                ),
                0,
            )
            body = reader.read(length) if length else b""
            upstream.sendall(b"".join(head) + b"X-Forwarded-Proto: https\r\n\r\n" + body)
            sent.append(time.monotonic())
    except (OSError, ssl.SSLError):
        pass
    finally:
        with contextlib.suppress(OSError):
            upstream.close()
        with contextlib.suppress(OSError):
            client.close()


# -- a GitLab-shaped provider, for the reference backend --------------------------------


class _GitLab(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; Nagle would hold the second for an ACK.
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._json(
            {"access_token": "gitlab-bench-token", "token_type": "Bearer", "expires_in": 7200}
        )

    def do_GET(self) -> None:
        self._json({"id": 7, "username": "gitlab-bench", "email": "g@bench.invalid", "name": "G B"})

    def _json(self, data: dict[str, Any]) -> None:
        body = json.dumps(data).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@contextlib.contextmanager
def fake_gitlab() -> Iterator[tuple[str, int]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _GitLab)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[:2]  # type: ignore[misc]
    finally:
        server.shutdown()
        server.server_close()


# -- logins ------------------------------------------------------------------------------


class Logins:
    """Logins through the in-process site (Django's test client), one backend each."""

    def __init__(self, ion: IonSandbox, ion_proxy: str, gitlab_proxy: str) -> None:
        self.ion = ion
        self.ion_proxy = ion_proxy
        self.gitlab_proxy = gitlab_proxy
        # The person's browser on Ion: straight to the sandbox, not timed.
        self.browser = IonBrowser(timeout=60.0)

    def settings(self) -> dict[str, Any]:
        return {
            "AUTHENTICATION_BACKENDS": list(BACKENDS.values()),
            "SOCIAL_AUTH_ION_BASE_URL": self.ion_proxy,
            "SOCIAL_AUTH_ION_KEY": self.ion.client_id,
            "SOCIAL_AUTH_ION_SECRET": self.ion.client_secret,
            "SOCIAL_AUTH_ION_OIDC_KEY": self.ion.oidc_client_id,
            "SOCIAL_AUTH_ION_OIDC_SECRET": self.ion.oidc_client_secret,
            "SOCIAL_AUTH_GITLAB_KEY": "gitlab-bench",
            "SOCIAL_AUTH_GITLAB_SECRET": "gitlab-bench-secret",
            "SOCIAL_AUTH_GITLAB_API_URL": self.gitlab_proxy,
            "SOCIAL_AUTH_RAISE_EXCEPTIONS": True,
        }

    def callback_url(self, backend: str) -> tuple[Client, str]:
        """Begin a login on the site and go through Ion (or skip GitLab's pages): the
        client and the callback URL, ready to be timed."""
        client = Client()
        response = client.post(f"/login/{backend}/")
        authorize = urlsplit(response["Location"])
        state = parse_qs(authorize.query)["state"][0]
        if backend == "gitlab":
            return client, f"/complete/gitlab/?code=gitlab-bench-code&state={state}"
        direct = urlunsplit(("http", urlsplit(self.ion.url).netloc, *authorize[2:]))
        callback = self.browser.authorize(direct, username=PERSON)
        return client, callback.removeprefix(SITE)

    def callback(self, backend: str, proxy: DelayingTLSProxy) -> tuple[float, float]:
        """One login: the callback's duration, and the part of it spent waiting on the
        network (in requests' adapters, less the time the server behind ``proxy`` took)."""
        client, url = self.callback_url(backend)
        waited, served = _in_adapters[0], proxy.server_seconds
        start = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - start
        if response.status_code != 302 or response["Location"] != "/":
            raise RuntimeError(f"{backend} login failed: {response.status_code} {response}")
        network = (_in_adapters[0] - waited) - (proxy.server_seconds - served)
        return elapsed, network


#: Seconds spent in ``HTTPAdapter.send`` (connecting, sending, waiting for the answer's
#: head), by every backend: ion-oauth's pooled session and social-core's one-off ones.
_in_adapters = [0.0]


def _count_adapter_time() -> None:
    if getattr(HTTPAdapter, "_bench_timed", False):
        return
    send = HTTPAdapter.send

    def timed(self: HTTPAdapter, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return send(self, *args, **kwargs)
        finally:
            _in_adapters[0] += time.perf_counter() - start

    HTTPAdapter.send = timed  # type: ignore[method-assign]
    HTTPAdapter._bench_timed = True  # type: ignore[attr-defined]


def measure_backend(
    logins: Logins, backend: str, proxy: DelayingTLSProxy, *, steady: int, idle: int
) -> dict[str, Any]:
    """``steady`` logins on a warm pool and ``idle`` after an idle gap: the callback's
    duration and its time on the network (ms), and new connections through ``proxy``.

    Each the fastest of its logins: on a shared machine noise only ever adds time."""
    logins.callback(backend, proxy)  # warm: connections, OIDC discovery and keys
    opened = proxy.connections
    warm = [logins.callback(backend, proxy) for _ in range(steady)]
    result: dict[str, Any] = {"steady_connections": (proxy.connections - opened) / steady}
    opened = proxy.connections
    cold = []
    for _ in range(idle):
        time.sleep(IDLE_GAP)
        cold.append(logins.callback(backend, proxy))
    result["idle_connections"] = (proxy.connections - opened) / idle if idle else None
    for phase, times in (("steady", warm), ("idle", cold)):
        durations, network = [t[0] for t in times], [t[1] for t in times]
        result[f"{phase}_ms"] = min(durations) * 1000 if times else None
        result[f"{phase}_median_ms"] = statistics.median(durations) * 1000 if times else None
        result[f"{phase}_network_ms"] = min(network) * 1000 if times else None
    return result


def run(*, rtts_ms: tuple[int, ...] = (20, 80), steady: int = 15, idle: int = 4) -> dict[str, Any]:
    """Every figure of the distance benchmark; Django must be configured (``bench_settings``)."""
    _count_adapter_time()
    ca = trustme.CA()
    result: dict[str, Any] = {"rtts_ms": list(rtts_ms), "keepalive_s": KEEPALIVE}
    with tempfile.TemporaryDirectory(prefix="ion-bench-tls-") as tmp:
        bundle = Path(tmp) / "ca.pem"
        ca.cert_pem.write_to_path(str(bundle))
        redirect_uris = [f"{SITE}/complete/ion/", f"{SITE}/complete/ion-oidc/"]
        with (
            IonSandbox(
                redirect_uris=redirect_uris, env={"ION_SANDBOX_BEHIND_TLS_PROXY": "1"}
            ) as ion,
            fake_gitlab() as gitlab,
            _environ(REQUESTS_CA_BUNDLE=str(bundle)),
        ):
            sandbox = urlsplit(ion.url)
            upstream = (sandbox.hostname or "127.0.0.1", sandbox.port or 80)
            by_rtt: dict[str, Any] = {}
            for rtt_ms in (0, *rtts_ms):
                ion_proxy = DelayingTLSProxy(upstream, ca, rtt_ms / 1000)
                gitlab_proxy = DelayingTLSProxy(gitlab, ca, rtt_ms / 1000)
                logins = Logins(ion, ion_proxy.url, gitlab_proxy.url)
                try:
                    with override_settings(**logins.settings()):
                        transport.get_session().close()
                        by_rtt[str(rtt_ms)] = {
                            backend: measure_backend(
                                logins,
                                backend,
                                gitlab_proxy if backend == "gitlab" else ion_proxy,
                                steady=steady,
                                idle=idle if rtt_ms else 0,
                            )
                            for backend in BACKENDS
                        }
                finally:
                    logins.browser.close()
                    ion_proxy.close()
                    gitlab_proxy.close()
            result["ms"] = by_rtt
    result["rtt_counts"] = report.rtt_counts(result)
    return result


@contextlib.contextmanager
def _environ(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
