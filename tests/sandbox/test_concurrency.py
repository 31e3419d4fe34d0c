"""The sandbox under concurrent logins: SQLite must not turn them into HTTP 500s."""

from __future__ import annotations

from typing import Any

from threads import run_in_threads


def test_concurrent_code_exchanges_and_refreshes_all_succeed(browser: Any, site: Any) -> None:
    """Guards against "database is locked" (a 500) when token requests arrive together,
    found by the benchmark with 8 users logging in at once."""
    codes = [browser.code(person) for person in (1, 2, 3) * 4]

    exchanged = run_in_threads(site.exchange, codes)
    assert [r.status_code for r in exchanged] == [200] * len(codes)

    refresh_tokens = [r.json()["refresh_token"] for r in exchanged]
    refreshed = run_in_threads(site.refresh, refresh_tokens)
    assert [r.status_code for r in refreshed] == [200] * len(codes)
