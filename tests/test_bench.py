"""The benchmark (bench/run.py) keeps working: its in-process half, run once with tiny
numbers, gives well-formed figures and a table. No timing is asserted: figures come from
``tox -e bench``, not from tests."""

from __future__ import annotations

import copy
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


def test_the_scripted_browser_finds_the_consent_forms_fields_and_buttons(
    bench: ModuleType,
) -> None:
    import bench_browser as browser

    page = (
        '<form method="post" id="authorizationForm">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="t">'
        '<input type="hidden" name="state" value="s">'
        '<input type="text" name="ignored" value="x">'
        '<button type="submit" class="primary" name="allow" value="Authorize">Authorize</button>'
        '<button type="submit">Cancel</button></form>'
    )

    (form,) = browser.forms_of(page)

    assert form.id == "authorizationForm"
    assert form.fields == {"csrfmiddlewaretoken": "t", "state": "s"}
    assert form.buttons == [("allow", "Authorize")]


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
