"""Where the sandbox may listen, and the host names it answers to.

It has no passwords: whoever reaches it can log in as anyone and call its control
endpoints. So it listens on loopback unless told otherwise with ``--allow-remote``, and
its ``ALLOWED_HOSTS`` follow the address it is bound to.
"""

from __future__ import annotations

import ipaddress
import socket

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
WILDCARDS = ("0.0.0.0", "::", "")  # noqa: S104 - names, not a bind


def is_loopback_host(host: str) -> bool:
    """Whether ``--host`` names this machine's loopback (``127.0.0.0/8``, ``::1``, localhost)."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(host: str) -> list[str]:
    """``ALLOWED_HOSTS`` for a sandbox bound to ``host``.

    Bound to loopback: the loopback names (a browser may reach 127.0.0.1 as localhost).
    Bound to one other address: that address only. Bound to every address: loopback and
    this machine's names, which other machines use to reach it.
    """
    if is_loopback_host(host):
        return [*LOOPBACK_NAMES, host] if host not in LOOPBACK_NAMES else list(LOOPBACK_NAMES)
    if host in WILDCARDS:
        return [*LOOPBACK_NAMES, *sorted({socket.gethostname(), socket.getfqdn()})]
    try:
        if ipaddress.ip_address(host).version == 6:
            return [f"[{host}]"]
    except ValueError:
        pass
    return [host]


def remote_warning(host: str) -> str:
    """The banner printed when the sandbox listens beyond loopback."""
    line = "!" * 72
    return (
        f"{line}\n"
        f"!! The Ion sandbox is listening on {host}, beyond this machine's loopback.\n"
        "!! It has no passwords: anyone who can reach it can log in as any of its\n"
        "!! people to any site that trusts it. Use it on a network you trust only.\n"
        f"{line}"
    )
