"""The benchmark's results as a Markdown table, each figure beside its goal; and
``python bench/bench_report.py --publish``, which writes them into docs/cost.md."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

NA = "n/a"


def _met(ok: bool | None) -> str:
    if ok is None:
        return NA
    return "met" if ok else "**missed**"


def _num(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}"


def _errors(count: int) -> str:
    return f"{count} error{'' if count == 1 else 's'}"


def rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(figure, measured, goal, met) for everything the run measured; n/a for the rest."""
    out: list[tuple[str, str, str, str]] = []
    live = results.get("live") or {}
    phases = live.get("phases") or {}
    steady = phases.get("1")

    if steady:
        value = steady["requests_per_login"]
        out.append(
            (
                "Requests to Ion per login, OAuth2",
                f"{_num(value)} (token {_num(steady['token_requests_per_login']['authorization_code'])}, "
                f"profile {_num(steady['profile_requests_per_login'])})",
                "2",
                _met(value == 2),
            )
        )
    else:
        queries = results["inprocess"]["queries"]
        value = queries["requests_per_login"]
        out.append(
            (
                "Requests to Ion per login, OAuth2 (in-process fake)",
                str(value),
                "2",
                _met(value == 2),
            )
        )

    oidc = live.get("oidc")
    if oidc and not oidc["cached"]["errors"]:
        value = oidc["cached"]["site_requests_per_login"]
        out.append(
            (
                "Requests to Ion per login, OIDC, keys cached",
                f"{_num(value)} (first login: {_num(oidc['first']['site_requests_per_login'], 0)})",
                "1",
                _met(value == 1),
            )
        )
    else:
        out.append(("Requests to Ion per login, OIDC, keys cached", NA, "1", NA))

    if steady:
        value = steady["new_connections_per_login"]
        out.append(
            (
                "New TCP connections to Ion per login, steady state",
                f"{_num(value)} (seen from the site: {_num(steady['site_new_connections_per_login'])}; "
                f"the site opened {live['site_connections_to_ion_total']} in the whole run of "
                f"{live['login_attempts_total']} logins)",
                "< 0.1",
                _met(value < 0.1),
            )
        )
    else:
        out.append(("New TCP connections to Ion per login, steady state", NA, "< 0.1", NA))

    cpu = results["inprocess"].get("cpu")
    if cpu:
        own = cpu["own"]
        out.append(
            (
                "Backend CPU per login, IonOauth2 / social-core GitLabOAuth2",
                f"{_num(own['ratio'])}x ({_num(own['ion_us'] / 1000)} ms / "
                f"{_num(own['gitlab_us'] / 1000)} ms; repetitions {_num(own['ratio_min'])}"
                f"-{_num(own['ratio_max'])})",
                "<= 1.1",
                _met(own["ratio"] <= 1.1),
            )
        )
        whole = cpu["callback"]
        out.append(
            (
                "Whole callback request CPU, same comparison",
                f"{_num(whole['ratio'])}x ({_num(whole['ion_us'] / 1000)} ms / "
                f"{_num(whole['gitlab_us'] / 1000)} ms)",
                "-",
                "-",
            )
        )

    cases = results["inprocess"]["queries"]["cases"]
    rec, default = cases["recommended"], cases["social_core_default"]
    out.append(
        (
            "DB queries, first login: recommended / social-core default pipeline",
            f"{rec['first']} / {default['first']}",
            "-",
            "-",
        )
    )
    added = results["inprocess"]["queries"]["repeat_added_vs_default"]
    out.append(
        (
            "DB queries, repeat login: recommended / social-core default pipeline",
            f"{rec['repeat']} / {default['repeat']} ({added:+d})",
            "sync adds <= 3",
            _met(added <= 3),
        )
    )

    first = live.get("first_logins")
    if first:
        out.append(
            (
                f"First logins of {first['logins'] + first['errors']} new users, 8 at a time",
                _errors(first["errors"]),
                "0 errors",
                _met(first["errors"] == 0),
            )
        )
    for users in ("1", "8", "32"):
        phase = phases.get(users)
        label = f"Logins per second, {users} concurrent user{'s' if users != '1' else ''}"
        if phase:
            out.append(
                (
                    label,
                    f"{_num(phase['logins_per_second'], 1)} ({phase['logins']} logins, "
                    f"{_errors(phase['errors'])}; new connections per login "
                    f"{_num(phase['new_connections_per_login'])})",
                    "0 errors",
                    _met(phase["errors"] == 0),
                )
            )
        else:
            out.append((label, NA, "0 errors", NA))

    refresh = live.get("refresh")
    if refresh:
        shared, per_request = refresh["shared_client"], refresh["client_per_request"]
        out.append(
            (
                "Refresh requests per 50 concurrent calls (8 threads) on an expired token",
                f"{shared['refresh_requests']} with one shared client, "
                f"{per_request['refresh_requests']} with a client per request "
                f"({_errors(shared['errors'] + per_request['errors'])})",
                "exactly 1",
                _met(
                    all(r["refresh_requests"] == 1 and r["errors"] == 0 for r in refresh.values())
                ),
            )
        )
    else:
        out.append(
            (
                "Refresh requests per 50 concurrent calls (8 threads) on an expired token",
                NA,
                "exactly 1",
                NA,
            )
        )
    out += eighth_rows(live)
    return out


EIGHTH_PAGE = "Requests to Ion per view of the example's eighth-period page"
BLOCKS_YEAR = "Requests to Ion for a school year of eighth-period blocks, `IonClient.blocks()`"


def eighth_rows(live: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The eighth-period page's requests per view and a year of blocks' requests."""
    out = []
    page = live.get("eighth_page")
    if page:
        value = page["requests_per_view"]
        out.append(
            (
                EIGHTH_PAGE,
                f"{_num(value)} ({page['views']} views of {page['blocks_shown']} blocks, "
                f"{_errors(page['errors'])})",
                "<= 4",
                _met(value <= 4 and page["errors"] == 0),
            )
        )
    else:
        out.append((EIGHTH_PAGE, NA, "<= 4", NA))
    year = live.get("blocks_year")
    if year:
        complete = year["blocks_listed"] == year["blocks_served"]
        out.append(
            (
                BLOCKS_YEAR,
                f"{year['requests']} ({year['blocks_listed']} of {year['blocks_served']} blocks "
                "listed)",
                "<= 2",
                _met(year["requests"] <= 2 and complete),
            )
        )
    else:
        out.append((BLOCKS_YEAR, NA, "<= 2", NA))
    return out


def notes(results: dict[str, Any]) -> list[str]:
    """Why logins failed, summed over the live phases, and what the site logged."""
    live = results.get("live") or {}
    parts = [live.get("first_logins") or {}, *(live.get("phases") or {}).values()]
    seen: dict[str, int] = {}
    for part in parts:
        for message, count in (part.get("error_causes") or {}).items():
            seen[message] = seen.get(message, 0) + count
    lines = []
    if seen:
        lines += ["", "Failed logins, by what the browser saw:", ""]
        lines += [f"- {count} x {message}" for message, count in seen.items()]
    logged = live.get("site_exceptions") or {}
    if logged:
        lines += ["", "Exceptions in the example site's log:", ""]
        lines += [f"- {count} x `{line}`" for line, count in logged.items()]
    return lines


#: Backend names in the distance table, and each one's goal in round trips (steady state).
DISTANCE_BACKENDS = {
    "ion": ("`IonOauth2`", 2.2),
    "ion-oidc": ("`IonOpenIdConnect`", 1.2),
    "gitlab": ("social-core `GitLabOAuth2` (reference)", None),
}


def rtt_counts(result: dict[str, Any]) -> dict[str, dict[str, dict[str, float]]]:
    """Round trips the network added to the callback: (time on the network - the same with
    no delay) / RTT, where time on the network is the fastest login's time in requests'
    adapters less the time Ion took to answer (so no processing counts as distance)."""
    local = result["ms"]["0"]
    counts: dict[str, dict[str, dict[str, float]]] = {}
    for rtt_ms in result["rtts_ms"]:
        figures = result["ms"][str(rtt_ms)]
        counts[str(rtt_ms)] = {
            backend: {
                phase: (
                    figures[backend][f"{phase}_network_ms"] - local[backend]["steady_network_ms"]
                )
                / rtt_ms
                for phase in ("steady", "idle")
                if figures[backend][f"{phase}_network_ms"] is not None
            }
            for backend in DISTANCE_BACKENDS
        }
    return counts


def distance_rows(distance: dict[str, Any]) -> list[tuple[str, ...]]:
    """(backend, then per RTT: steady and after an idle gap, goal, met), in round trips
    the network added to the callback, with the new connections per login."""
    rtts = [str(rtt) for rtt in distance["rtts_ms"]]
    out = []
    for backend, (label, goal) in DISTANCE_BACKENDS.items():
        cells = [label]
        met = []
        for rtt in rtts:
            counts = distance["rtt_counts"][rtt][backend]
            ms = distance["ms"][rtt][backend]
            for phase in ("steady", "idle"):
                cells.append(
                    f"{_num(counts[phase], 1)} ({_num(ms[f'{phase}_connections'], 1)} new conn., "
                    f"callback {_num(ms[f'{phase}_ms'], 0)} ms)"
                )
            met.append(goal is None or counts["steady"] <= goal)
        cells.append(f"<= {goal} steady" if goal is not None else "-")
        cells.append(_met(all(met)) if goal is not None else "-")
        out.append(tuple(cells))
    return out


def distance_markdown(distance: dict[str, Any]) -> list[str]:
    """The second table: the callback over TLS at a simulated distance."""
    head = ["Backend"]
    for rtt in distance["rtts_ms"]:
        head += [f"RTT {rtt} ms, steady", f"RTT {rtt} ms, after an idle gap"]
    head += ["Goal", "Goal met"]
    local = distance["ms"]["0"]
    lines = [
        "",
        "Round trips the network added to the callback (HTTPS through a proxy that delays each",
        "direction by half the RTT; the callback's time on the network less the same with no",
        "delay, divided by the RTT; the fastest of the logins measured; new connections per login",
        "in brackets):",
        "",
        "| " + " | ".join(head) + " |",
        "| " + " | ".join("---" for _ in head) + " |",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in distance_rows(distance)]
    lines += [
        "",
        "The callback with no delay: "
        + ", ".join(
            f"{DISTANCE_BACKENDS[backend][0]} {_num(local[backend]['steady_ms'], 1)} ms"
            for backend in DISTANCE_BACKENDS
        )
        + f"; the proxy closes connections idle {distance['keepalive_s']:g} s.",
    ]
    return lines


def markdown(results: dict[str, Any]) -> str:
    """The tables, and one line on where and how they were measured."""
    lines = ["| Figure | Measured | Goal | Goal met |", "| --- | --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows(results)]
    lines += notes(results)
    if results.get("distance"):
        lines += distance_markdown(results["distance"])
    env = results["environment"]
    lines += [
        "",
        f"Measured {env['date']} on {env['machine']}: Python {env['python']}, Django "
        f"{env['django']}, social-auth-core {env['social_core']}; {env['command']}.",
    ]
    return "\n".join(lines) + "\n"


ROOT = Path(__file__).resolve().parent.parent
#: The committed copy of the results that docs/cost.md's tables are made from.
PUBLISHED = ROOT / "docs" / "bench-results.json"
COST = ROOT / "docs" / "cost.md"
BEGIN = (
    "<!-- Generated from docs/bench-results.json by `python bench/bench_report.py --publish`. -->"
)
END = "<!-- End of the generated tables. -->"


def with_tables(page: str, results: dict[str, Any]) -> str:
    """``page`` with the tables between its markers made anew from ``results``."""
    start, end = page.find(BEGIN), page.find(END)
    if start < 0 or end < start:
        raise ValueError(f"{COST.name} has no {BEGIN!r} ... {END!r} markers")
    return page[: start + len(BEGIN)] + "\n\n" + markdown(results) + "\n" + page[end:]


def main(argv: list[str] | None = None) -> int:
    """``--publish``: copy a run's results.json to docs/ and write docs/cost.md's tables from
    it; ``--check``: exit 1 if docs/cost.md's tables differ from what that copy gives."""
    parser = argparse.ArgumentParser(prog="python bench/bench_report.py", description=__doc__)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--publish", action="store_true", help="publish a run's results")
    action.add_argument("--check", action="store_true", help="check docs/cost.md is current")
    parser.add_argument(
        "--results",
        type=Path,
        default=ROOT / "bench-results" / "results.json",
        help="the run to publish (default: bench-results/results.json)",
    )
    args = parser.parse_args(argv)
    page = COST.read_text()
    if args.check:
        current = with_tables(page, json.loads(PUBLISHED.read_text())) == page
        print(
            f"{COST.name} is current"
            if current
            else f"{COST.name} differs from {PUBLISHED.name}; run --publish"
        )
        return 0 if current else 1
    results = json.loads(args.results.read_text())
    # tox passes --out as an absolute path; the page names it from the checkout instead.
    environment = results["environment"]
    environment["command"] = environment["command"].replace(f"{ROOT}{os.sep}", "")
    PUBLISHED.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    COST.write_text(with_tables(page, results))
    print(f"wrote {PUBLISHED.relative_to(ROOT)} and the tables of {COST.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
