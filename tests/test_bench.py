"""The benchmark (bench/run.py) keeps working: its in-process half, run once with tiny
numbers, gives well-formed figures and a table. No timing is asserted: figures come from
``tox -e bench``, not from tests."""

from __future__ import annotations

import copy
import datetime
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction

BENCH = Path(__file__).resolve().parent.parent / "bench"
# The mark makes pytest-django create the test database the module fixture uses.
pytestmark = pytest.mark.django_db


def load_bench() -> ModuleType:
    """bench/run.py as a module; importing it puts bench/ on sys.path for its siblings."""
    spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def bench() -> ModuleType:
    return load_bench()


@pytest.fixture(scope="module")
def measured(django_db_setup: None, django_db_blocker: Any) -> dict[str, Any]:
    """One run for the whole module, its rows rolled back like a TestCase's."""
    bench = load_bench()
    args = bench.parse_args(["--repetitions", "1", "--logins", "2", "--skip-live"])
    with django_db_blocker.unblock(), transaction.atomic():
        results: dict[str, Any] = bench.measure(args)
        transaction.set_rollback(True)
    results["environment"] = bench.environment(["--skip-live"])
    return results


@pytest.fixture
def results(measured: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(measured)


def test_an_oauth2_login_sends_two_requests_to_ion(results: dict[str, Any]) -> None:
    queries = results["inprocess"]["queries"]
    assert queries["requests_per_login"] == 2
    assert queries["requests_per_login_stable"] is True


def test_query_counts_are_whole_numbers_and_a_first_login_costs_more(
    results: dict[str, Any],
) -> None:
    cases = results["inprocess"]["queries"]["cases"]
    assert set(cases) == {"recommended", "social_core_default", "recommended_without_ion_steps"}
    for case in cases.values():
        assert isinstance(case["first"], int)
        assert isinstance(case["repeat"], int)
        assert case["first"] > case["repeat"] > 0
        assert len(case["sql"]["repeat"]) == case["repeat"]


def test_the_recommended_pipeline_is_the_test_sites(results: dict[str, Any]) -> None:
    pipelines = results["inprocess"]["queries"]["pipelines"]
    assert pipelines["recommended"] == list(settings.SOCIAL_AUTH_PIPELINE)
    assert "ion_oauth.pipeline.sync_roles" not in pipelines["recommended_without_ion_steps"]


def test_the_cpu_comparison_times_both_backends(results: dict[str, Any]) -> None:
    cpu = results["inprocess"]["cpu"]
    for part in ("own", "auth_complete", "callback"):
        assert cpu[part]["ion_us"] > 0
        assert cpu[part]["gitlab_us"] > 0
        assert cpu[part]["ratio"] == pytest.approx(cpu[part]["ion_us"] / cpu[part]["gitlab_us"])
    # The backend's own part excludes the pipeline, so it is the smallest.
    assert cpu["own"]["ion_us"] < cpu["auth_complete"]["ion_us"] <= cpu["callback"]["ion_us"]


def test_results_are_written_as_json_and_a_markdown_table(
    bench: ModuleType, results: dict[str, Any], tmp_path: Path
) -> None:
    table = bench.write(results, tmp_path)

    assert json.loads((tmp_path / "results.json").read_text()) == json.loads(json.dumps(results))
    assert (tmp_path / "results.md").read_text() == table
    assert table.startswith("| Figure | Measured | Goal | Goal met |\n| --- | --- | --- | --- |\n")
    # Without the live half its figures say so instead of disappearing.
    assert "| Logins per second, 32 concurrent users | n/a | 0 errors | n/a |" in table
    assert "| Requests to Ion per login, OAuth2 (in-process fake) | 2 | 2 | met |" in table
    assert (
        "| Requests to Ion per view of the example's eighth-period page | n/a | <= 4 | n/a |"
        in (table)
    )


def test_a_missed_goal_is_marked_missed(bench: ModuleType, results: dict[str, Any]) -> None:
    import bench_report as report

    results["live"] = {
        "refresh": {
            "shared_client": {"refresh_requests": 1, "errors": 0},
            "client_per_request": {"refresh_requests": 2, "errors": 0},
        },
        "phases": {},
    }
    rows = {row[0]: row for row in report.rows(results)}

    assert rows["Refresh requests per 50 concurrent calls (8 threads) on an expired token"][1:] == (
        "1 with one shared client, 2 with a client per request (0 errors)",
        "exactly 1",
        "**missed**",
    )


def test_failed_logins_are_explained_under_the_table(
    bench: ModuleType, results: dict[str, Any]
) -> None:
    import bench_report as report

    results["live"] = {
        "first_logins": {"logins": 30, "errors": 2, "error_causes": {"Ion answered 500": 2}},
        "phases": {"8": {"error_causes": {"Ion answered 500": 3, "site answered 500": 1}}},
        "site_exceptions": {"sqlite3.OperationalError: database is locked": 1},
    }

    assert report.notes(results) == [
        "",
        "Failed logins, by what the browser saw:",
        "",
        "- 5 x Ion answered 500",
        "- 1 x site answered 500",
        "",
        "Exceptions in the example site's log:",
        "",
        "- 1 x `sqlite3.OperationalError: database is locked`",
    ]


def distance_figures(ion_ms: float) -> dict[str, Any]:
    """Distance results at RTT 0 and 20 ms: 10 ms on the network with no delay, ``ion_ms``
    for IonOauth2 at 20 ms, and the expected round trips for the others."""

    def phase(network: float, idle: float, connections: float) -> dict[str, Any]:
        return {
            "steady_ms": network + 100,
            "steady_network_ms": network,
            "steady_connections": connections,
            "idle_ms": idle + 100,
            "idle_network_ms": idle,
            "idle_connections": 1.0,
        }

    local = {name: phase(10, 10, 0) for name in ("ion", "ion-oidc", "gitlab")}
    far = {
        "ion": phase(ion_ms, 90, 0),
        "ion-oidc": phase(30, 70, 0),
        "gitlab": phase(130, 130, 2),
    }
    return {"rtts_ms": [20], "keepalive_s": 1.0, "ms": {"0": local, "20": far}}


@pytest.mark.parametrize(("ion_ms", "met"), [(50, "met"), (60, "**missed**")])
def test_the_distance_table_counts_round_trips_against_the_goals(
    bench: ModuleType, results: dict[str, Any], ion_ms: float, met: str
) -> None:
    import bench_report as report

    distance = distance_figures(ion_ms)
    distance["rtt_counts"] = report.rtt_counts(distance)
    results["distance"] = distance
    rows = {row[0]: row[1:] for row in report.distance_rows(distance)}

    # (50 - 10) / 20 = 2.0 round trips; (60 - 10) / 20 = 2.5, over the goal of 2.2.
    assert rows["`IonOauth2`"] == (
        f"{(ion_ms - 10) / 20:.1f} (0.0 new conn., callback {ion_ms + 100:.0f} ms)",
        "4.0 (1.0 new conn., callback 190 ms)",
        "<= 2.2 steady",
        met,
    )
    assert rows["`IonOpenIdConnect`"] == (
        "1.0 (0.0 new conn., callback 130 ms)",
        "3.0 (1.0 new conn., callback 170 ms)",
        "<= 1.2 steady",
        "met",
    )
    assert rows["social-core `GitLabOAuth2` (reference)"] == (
        "6.0 (2.0 new conn., callback 230 ms)",
        "6.0 (1.0 new conn., callback 230 ms)",
        "-",
        "-",
    )
    assert "| Backend | RTT 20 ms, steady | RTT 20 ms, after an idle gap | Goal | Goal met |" in (
        report.markdown(results)
    )


@pytest.mark.parametrize(
    ("per_view", "errors", "requests", "listed", "page_met", "year_met"),
    [
        (4.0, 0, 2, 172, "met", "met"),
        (5.0, 0, 3, 172, "**missed**", "**missed**"),
        # An error page costs fewer requests; a short list took fewer than a year's.
        (2.0, 1, 1, 100, "**missed**", "**missed**"),
    ],
)
def test_eighth_period_figures_are_held_to_their_goals(
    bench: ModuleType,
    results: dict[str, Any],
    *,
    per_view: float,
    errors: int,
    requests: int,
    listed: int,
    page_met: str,
    year_met: str,
) -> None:
    import bench_report as report

    results["live"] = {
        "phases": {},
        "eighth_page": {
            "views": 5,
            "errors": errors,
            "blocks_shown": 2,
            "requests_per_view": per_view,
        },
        "blocks_year": {"blocks_served": 172, "blocks_listed": listed, "requests": requests},
    }
    rows = {row[0]: row[1:] for row in report.rows(results)}

    assert rows[report.EIGHTH_PAGE] == (
        f"{per_view:.2f} (5 views of 2 blocks, {errors} error{'' if errors == 1 else 's'})",
        "<= 4",
        page_met,
    )
    assert rows[report.BLOCKS_YEAR] == (
        f"{requests} ({listed} of 172 blocks listed)",
        "<= 2",
        year_met,
    )


def test_the_year_of_blocks_is_wednesdays_and_fridays_a_and_b(bench: ModuleType) -> None:
    import bench_eighth as eighth

    blocks = eighth.year_blocks()
    dates = sorted({datetime.date.fromisoformat(block["date"]) for block in blocks})

    assert [block["id"] for block in blocks] == list(range(1, len(blocks) + 1))
    assert {block["block_letter"] for block in blocks} == {"A", "B"}
    assert len(blocks) == 2 * len(dates)
    assert {day.strftime("%A") for day in dates} == {"Wednesday", "Friday"}
    assert dates[0] >= eighth.YEAR_START
    assert dates[-1] <= eighth.YEAR_END
    # More than a page of 100, at most Ion's largest page of 200: what a real year holds.
    assert 100 < len(blocks) <= 200
