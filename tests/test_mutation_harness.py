"""mutation/run.py, the harness behind ``tox -e mutation``: its verdicts must be right."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parent.parent / "mutation" / "run.py"


@pytest.fixture(scope="module")
def harness():
    spec = importlib.util.spec_from_file_location("mutation_run", HARNESS)
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutation_run"] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules["mutation_run"]


DIFF = """\
--- ion_oauth/profile.py
+++ ion_oauth/profile.py
@@ -1,3 +1,3 @@
 def f():
-    token_type = data.get("token_type", "Bearer")
+    token_type = data.get("token_type", "bearer")
"""


def test_the_mutated_line_is_read_from_the_diff(harness):
    assert harness.mutated_line(DIFF) == 'token_type = data.get("token_type", "bearer")'
    assert harness.mutated_line("--- a\n+++ b\n-    gone()\n") == "(removed) gone()"


def test_equivalents_are_read_with_their_line_and_reason(harness, tmp_path):
    listing = tmp_path / "equivalent.txt"
    listing.write_text(
        "# a comment\n\nion_oauth.profile.x_f__mutmut_1 | x = 1 | one is as good as two here\n"
    )

    assert harness.load_equivalents(listing) == {
        "ion_oauth.profile.x_f__mutmut_1": harness.Equivalent("x = 1", "one is as good as two here")
    }


@pytest.mark.parametrize(
    "line",
    [
        "ion_oauth.profile.x_f__mutmut_1 | x = 1",
        "ion_oauth.profile.x_f__mutmut_1 |  | no line",
        "ion_oauth.profile.x_f__mutmut_1 | x = 1 | why\nion_oauth.profile.x_f__mutmut_1 | x = 1 | why",
    ],
    ids=["no-reason", "empty-line", "twice"],
)
def test_a_malformed_equivalents_file_stops_the_run(harness, tmp_path, line):
    listing = tmp_path / "equivalent.txt"
    listing.write_text(line + "\n")

    with pytest.raises(SystemExit, match=r"equivalent\.txt:"):
        harness.load_equivalents(listing)


def outcome(harness, statuses, diffs=None):
    return harness.Outcome("profile", 60.0, statuses, diffs or {})


def test_a_listed_survivor_with_the_same_line_is_equivalent(harness):
    o = outcome(
        harness,
        {
            "ion_oauth.profile.x_f__mutmut_1": "survived",
            "ion_oauth.profile.x_f__mutmut_2": "killed",
        },
        {"ion_oauth.profile.x_f__mutmut_1": DIFF},
    )
    harness.apply_equivalents(
        o,
        {
            "ion_oauth.profile.x_f__mutmut_1": harness.Equivalent(
                'token_type = data.get("token_type", "bearer")', "compared lowercased"
            )
        },
    )

    assert o.equivalent == {"ion_oauth.profile.x_f__mutmut_1": "compared lowercased"}
    assert (o.mutants, o.killed, o.survivors, o.score, o.stale) == (2, 1, [], 0.5, [])


def test_a_listed_mutant_that_changed_is_stale_and_still_a_survivor(harness):
    name = "ion_oauth.profile.x_f__mutmut_1"
    o = outcome(harness, {name: "survived"}, {name: DIFF})
    harness.apply_equivalents(o, {name: harness.Equivalent("something else", "why")})

    assert o.survivors == [name]
    assert o.stale == [f"{name} now makes a different change"]
    assert not o.passed


def test_a_listed_mutant_that_is_killed_or_gone_is_stale(harness):
    killed, gone = "ion_oauth.profile.x_f__mutmut_1", "ion_oauth.profile.x_f__mutmut_9"
    o = outcome(harness, {killed: "killed"})
    harness.apply_equivalents(
        o, {killed: harness.Equivalent("x", "why"), gone: harness.Equivalent("y", "why")}
    )

    assert o.stale == [f"{killed} is killed", f"{gone} is no longer a mutant"]


def test_other_modules_entries_are_left_alone(harness):
    o = outcome(harness, {"ion_oauth.profile.x_f__mutmut_1": "killed"})
    harness.apply_equivalents(o, {"ion_oauth.api.x_g__mutmut_1": harness.Equivalent("x", "why")})

    assert o.stale == []


def test_a_module_passes_at_the_goal_with_no_survivors(harness):
    statuses = {f"ion_oauth.profile.x_f__mutmut_{i}": "killed" for i in range(17)}
    statuses |= {f"ion_oauth.profile.x_f__mutmut_{i}": "survived" for i in range(17, 20)}
    o = outcome(harness, statuses)
    o.equivalent = {f"ion_oauth.profile.x_f__mutmut_{i}": "why" for i in range(17, 20)}

    assert (o.score, o.passed) == (0.85, True)
    o.equivalent.pop("ion_oauth.profile.x_f__mutmut_19")
    assert o.passed is False


def test_a_timeout_or_untested_mutant_is_not_killed(harness):
    o = outcome(
        harness,
        {
            "ion_oauth.profile.x_f__mutmut_1": "timeout",
            "ion_oauth.profile.x_f__mutmut_2": "no tests",
        },
    )

    assert o.killed == 0
    assert o.survivors == ["ion_oauth.profile.x_f__mutmut_1", "ion_oauth.profile.x_f__mutmut_2"]


def test_functions_behind_decorators_mutmut_cannot_see_through_are_reported(harness, tmp_path):
    """sensitive_variables is not among them: the scratch copy has it stripped."""
    source = tmp_path / "mod.py"
    source.write_text(
        "@register(Tags.security)\ndef check(): pass\n"
        "class A:\n    @staticmethod\n    def s(): pass\n    @classmethod\n    def c(cls): pass\n"
        "@sensitive_variables('secret')\ndef send(secret): pass\n"
        "def plain(): pass\n"
    )

    assert harness.unreachable_functions(source) == ["check (@register)"]


def test_the_report_has_a_row_per_module_and_the_survivors(harness):
    o = outcome(
        harness,
        {
            "ion_oauth.profile.x_f__mutmut_1": "survived",
            "ion_oauth.profile.x_f__mutmut_2": "killed",
        },
        {"ion_oauth.profile.x_f__mutmut_1": DIFF},
    )

    table = harness.report([o])

    assert "| profile | 2 | 1 | 1 | 0 | 50.0% | 1.0 min |" in table
    assert "| **all** | 2 | 1 | 1 | 0 | 50.0% | 1.0 min |" in table
    assert (
        "- `ion_oauth.profile.x_f__mutmut_1` (survived): "
        '`token_type = data.get("token_type", "bearer")`'
    ) in table


def test_every_module_has_tests_that_exist(harness):
    root = HARNESS.parent.parent
    for module, selection in harness.MODULES.items():
        assert harness.sources(module), module
        files = [s for s in selection if not s.startswith("-")]
        assert files, module
        assert all((root / f).exists() for f in files), module
        deselected = [s.split("=", 1)[1] for s in selection if s.startswith("--deselect=")]
        assert all((root / d.split("::")[0]).is_file() for d in deselected), module


def test_a_package_is_mutated_file_by_file(harness, tmp_path):
    (tmp_path / "ion_oauth" / "pkg").mkdir(parents=True)
    for name in ("__init__.py", "b.py", "a.py"):
        (tmp_path / "ion_oauth" / "pkg" / name).write_text("")
    (tmp_path / "ion_oauth" / "single.py").write_text("")

    assert harness.sources("pkg", tmp_path) == [
        tmp_path / "ion_oauth" / "pkg" / n for n in ("__init__.py", "a.py", "b.py")
    ]
    assert harness.mutate_pattern("pkg", tmp_path) == "ion_oauth/pkg/*"
    assert harness.sources("single", tmp_path) == [tmp_path / "ion_oauth" / "single.py"]
    assert harness.mutate_pattern("single", tmp_path) == "ion_oauth/single.py"


def test_the_checks_package_has_no_function_mutmut_cannot_reach(harness):
    """Guards against a check registered with @register, whose logic mutmut skips."""
    unreachable = [f for p in harness.sources("checks") for f in harness.unreachable_functions(p)]

    assert unreachable == []


def test_a_mutant_that_only_removes_a_line_names_the_line(harness):
    diff = "--- a\n+++ b\n@@ -1,2 +1,1 @@\n     kept()\n-    del cache.flights[url]\n"

    assert harness.mutated_line(diff) == "(removed) del cache.flights[url]"


def test_sensitive_variables_is_stripped_so_mutmut_reaches_the_function(harness):
    source = (
        "from django.views.decorators.debug import sensitive_variables\n"
        "class C:\n"
        "    @sensitive_variables()\n"
        "    @property\n"
        "    def f(self):\n"
        "        return 1\n"
        "@debug.sensitive_variables('token')\n"
        "def g():\n"
        "    return 2\n"
    )

    assert harness.strip_decorators(source) == (
        "from django.views.decorators.debug import sensitive_variables\n"
        "class C:\n"
        "    @property\n"
        "    def f(self):\n"
        "        return 1\n"
        "def g():\n"
        "    return 2\n"
    )
