"""What eighth period costs in requests to Ion, against the live sandbox.

* The example project's eighth-period page (``/eighth/``), viewed by a logged-in person:
  the requests the site sent to Ion per view, counted inside the site (see
  :mod:`bench_site_probe`).
* A school year of eighth-period blocks through :meth:`ion_oauth.api.IonClient.blocks`:
  a sandbox of its own serving a year of blocks (``--data``), the requests counted in
  urllib3 in this process.
"""

from __future__ import annotations

import datetime
import json
import tempfile
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bench_site_probe as site_probe

from ion_oauth.api import IonClient
from ion_oauth.testing import IonSandbox, fetch_tokens

if TYPE_CHECKING:
    from bench_live import Bench, Browser

#: The year's first and last school days, and the sandbox's date inside that year.
YEAR_START = datetime.date(2026, 8, 24)
YEAR_END = datetime.date(2027, 6, 18)
TODAY = datetime.date(2026, 12, 2)
#: Eighth period is on Wednesdays and Fridays, blocks A and B.
EIGHTH_WEEKDAYS = (2, 4)
#: Shown on the eighth-period page once per block it lists (example/eighth.html).
BLOCK_MARKER = '<section class="block"'


def page(bench: Bench, browser: Browser, *, views: int) -> dict[str, Any]:
    """Requests to Ion per view of ``/eighth/`` by ``browser``, logged in first; one view
    uncounted before the counted ones. A view counts as an error unless it answers 200
    with at least one block (an error page would cost fewer requests)."""
    url = browser.site + "/eighth/"
    browser.login()
    browser.get(url)
    errors: list[str] = []
    blocks_shown = 0
    with bench.counting() as counters:
        for _ in range(views):
            response = browser.get(url)
            shown = response.text.count(BLOCK_MARKER) if response.status_code == 200 else 0
            if not shown:
                errors.append(f"/eighth/ answered {response.status_code} with no block")
            blocks_shown = max(blocks_shown, shown)
    by_path = {
        key.split(" ", 1)[1]: value
        for key, value in counters.site["requests"].items()
        if key.startswith(bench.ion_address + " ")
    }
    return {
        "views": views,
        "errors": len(errors),
        "error_causes": dict(Counter(errors).most_common(10)),
        "blocks_shown": blocks_shown,
        "requests_per_view": sum(by_path.values()) / views,
        "requests_by_path": by_path,
    }


def year_blocks() -> list[dict[str, Any]]:
    """A school year of eighth-period blocks: A and B on every Wednesday and Friday."""
    blocks: list[dict[str, Any]] = []
    day = YEAR_START
    while day <= YEAR_END:
        if day.weekday() in EIGHTH_WEEKDAYS:
            for letter in "AB":
                blocks.append(
                    {"id": len(blocks) + 1, "date": day.isoformat(), "block_letter": letter}
                )
        day += datetime.timedelta(days=1)
    return blocks


def year() -> dict[str, Any]:
    """Requests to Ion to list a school year of blocks with ``IonClient.blocks()``."""
    site_probe.install()
    redirect_uri = "http://127.0.0.1/bench/eighth/"
    blocks = year_blocks()
    with tempfile.TemporaryDirectory(prefix="ion-bench-year-") as tmp:
        data = Path(tmp) / "year.json"
        data.write_text(json.dumps({"blocks": blocks}))
        args = ["--data", str(data), "--today", TODAY.isoformat()]
        with IonSandbox(redirect_uris=[redirect_uri], args=args) as ion:
            token = fetch_tokens(ion, username=1, redirect_uri=redirect_uri)
            client = IonClient.from_token(
                token,
                client_id=ion.client_id,
                client_secret=ion.client_secret,
                on_token=lambda token: None,
                base_url=ion.url,
            )
            site_probe.snapshot(reset=True)
            listed = list(client.blocks())
            sent = site_probe.snapshot()["requests"]
            address = ion.url.removeprefix("http://")
    requests = sum(count for key, count in sent.items() if key.startswith(address + " "))
    return {"blocks_served": len(blocks), "blocks_listed": len(listed), "requests": requests}
