"""Reaching Ion step by step: DNS, TCP, TLS with verification, then HTTP, each timed.

The login itself goes through :mod:`ion_oauth.transport`, which reports every network
failure as "Ion could not be reached"; here each step is taken on its own so that the
report can say which one failed and how long each took.
"""

from __future__ import annotations

import contextlib
import email.utils
import os
import socket
import ssl
import time
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import urlsplit

import certifi
import requests

from ion_oauth.transport import MAX_BODY, USER_AGENT, _decode_json


class Unreachable(Exception):
    """A step failed; ``step`` is ``dns``, ``tcp``, ``tls`` or ``http``."""

    def __init__(self, step: str, message: str) -> None:
        super().__init__(message)
        self.step = step
        self.message = message


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def ca_bundle() -> str:
    """The CA certificates ``requests`` verifies Ion's against (the same, so we agree)."""
    return (
        os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or certifi.where()
    )


def connect(base_url: str, timeout: float) -> dict[str, float]:
    """Resolve, connect and (for https) shake hands with verification; the times in ms.

    Raises :class:`Unreachable` naming the step that failed.
    """
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    timings: dict[str, float] = {}
    started = time.monotonic()
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise Unreachable("dns", f"the host name {host!r} does not resolve ({error}).") from error
    timings["dns_ms"] = _ms(time.monotonic() - started)
    family, kind, proto, _name, address = addresses[0]
    started = time.monotonic()
    sock = socket.socket(family, kind, proto)
    try:
        sock.settimeout(timeout)
        try:
            sock.connect(address)
        except TimeoutError as error:
            raise Unreachable(
                "tcp", f"no answer from {address[0]} port {port} within {timeout:g} s."
            ) from error
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise Unreachable(
                "tcp", f"cannot connect to {address[0]} port {port}: {reason}."
            ) from error
        timings["tcp_ms"] = _ms(time.monotonic() - started)
        if parts.scheme == "https":
            started = time.monotonic()
            context = ssl.create_default_context(cafile=ca_bundle())
            try:
                with context.wrap_socket(sock, server_hostname=host):
                    pass
            except ssl.SSLCertVerificationError as error:
                raise Unreachable(
                    "tls", f"Ion's certificate does not verify: {error.verify_message}."
                ) from error
            except (ssl.SSLError, OSError) as error:
                raise Unreachable("tls", f"the TLS handshake failed: {error}.") from error
            timings["tls_ms"] = _ms(time.monotonic() - started)
    finally:
        sock.close()
    return timings


@dataclass
class Answer:
    """One HTTP answer from Ion, with when it came (for the clock) and how long it took."""

    status: int
    headers: Any
    body: bytes
    elapsed_ms: float
    #: This machine's clock (epoch seconds) halfway between sending and receiving.
    local_time: float
    cookie_names: set[str] = field(default_factory=set)

    @property
    def json(self) -> Any:
        return _decode_json(self.body)

    @property
    def content_type(self) -> str:
        return str(self.headers.get("Content-Type", "")).split(";")[0].strip() or "no type"

    def ion_time(self) -> float | None:
        """Ion's clock from its ``Date`` header (to the second), or None without one."""
        value = self.headers.get("Date")
        if not value:
            return None
        try:
            return email.utils.parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError):
            return None


def fetch(method: str, url: str, timeout: float, **kwargs: Any) -> Answer:
    """One request, no redirects followed, no cookies kept; Unreachable("http") on failure."""
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    sent_wall, sent = time.time(), time.monotonic()
    try:
        response = requests.request(
            method,
            url,
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
            verify=ca_bundle(),
            stream=True,
            **kwargs,
        )
        try:
            body = b""
            for chunk in response.iter_content(chunk_size=64 * 1024):
                body += chunk
                if len(body) > MAX_BODY:
                    break
        finally:
            response.close()
    except requests.Timeout as error:
        raise Unreachable("http", f"no answer within {timeout:g} s.") from error
    except requests.RequestException as error:
        raise Unreachable("http", f"the request failed: {type(error).__name__}.") from error
    took = time.monotonic() - sent
    cookies: SimpleCookie = SimpleCookie()
    for value in response.raw.headers.getlist("Set-Cookie"):
        with contextlib.suppress(CookieError):  # a cookie we cannot read has no name to clash
            cookies.load(value)
    return Answer(
        status=response.status_code,
        headers=response.headers,
        body=body[:MAX_BODY],
        elapsed_ms=_ms(took),
        local_time=sent_wall + took / 2,
        cookie_names=set(cookies),
    )
