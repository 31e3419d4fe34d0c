"""Mutation testing of ion-oauth's core modules with mutmut (``tox -e mutation``).

Each module (or package: ``checks`` is every module of ``ion_oauth/checks/``) is mutated
on its own, against its own unit tests (``MODULES`` below), in a scratch copy of the project under ``.mutation/<module>/``: mutmut (forkserver mode) makes
every small change it can to the module ("mutants") and runs the tests that reach the
changed function. A mutant the tests notice is *killed*; one they do not is *survived*.
A survivor listed in ``mutation/equivalent.txt`` changes nothing anyone can observe; each
entry there names the mutant, the line it makes, and why it is harmless.

The table (mutants, killed, survived, equivalent, score) is printed and written to
``mutation-results/mutation.md``, followed by every survivor's change and every
equivalent's reason. The run exits 1 when a module scores below ``GOAL`` or a survivor is
not listed as equivalent.

    python mutation/run.py                  # every module (about 30 minutes on 2 cores)
    python mutation/run.py checks profile   # just these
    python mutation/run.py --jobs 1 api     # fewer worker processes
"""

# S603: every command here runs this interpreter with fixed arguments.
# ruff: noqa: S603

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutation"
RESULTS = ROOT / "mutation-results"
EQUIVALENTS = Path(__file__).resolve().parent / "equivalent.txt"
#: Raw score (killed / mutants) each module must reach.
GOAL = 0.85

#: Each module and the unit tests it is mutated against. mutmut runs, for each mutant,
#: only those of these tests that reach the mutated function.
MODULES: dict[str, list[str]] = {
    "profile": ["tests/test_profile.py"],
    "claims": ["tests/test_claims.py"],
    "transport": [
        "tests/test_transport.py",
        # Connection reuse, resending and deadlines need real sockets: a fake Ion on loopback.
        "tests/faults/test_keepalive.py",
        "--deselect=tests/faults/test_keepalive.py"
        "::test_a_thousand_requests_with_random_idle_gaps_all_succeed",
        # How much of a huge answer is read depends on the socket: the same fake Ion.
        "tests/faults/test_body_cap.py",
        # Check sensitive_variables, which the scratch copy strips (STRIPPED_DECORATORS).
        "--deselect=tests/test_transport.py"
        "::test_an_error_report_of_a_failed_request_shows_no_secret",
        "--deselect=tests/faults/test_keepalive.py"
        "::test_an_error_report_of_a_lost_request_shows_nothing_it_carried",
    ],
    "oauth": ["tests/test_oauth.py"],
    "oidc": ["tests/test_oidc.py"],
    "discovery": ["tests/test_discovery.py", "tests/test_oidc.py"],
    "pipeline": ["tests/test_pipeline.py", "tests/test_oidc.py"],
    "checks": [
        "tests/checks",
        # Builds a test database for each mutant; the registration tests cover the same.
        "--deselect=tests/checks/test_registration.py"
        "::test_manage_py_check_runs_each_modules_checks",
    ],
    "api": [
        "tests/test_api.py",
        # Runs a fresh interpreter, which imports the installed ion_oauth, not the mutant.
        "--deselect=tests/test_api.py::test_plain_client_works_without_django_settings",
    ],
}

#: Decorators mutmut mutates through; a function under any other decorator is skipped
#: by mutmut, so its logic would go untested here without anyone noticing.
TRANSPARENT_DECORATORS = {"staticmethod", "classmethod"}
#: Decorators removed from the scratch copy so mutmut reaches the function: they only mark
#: it (``sensitive_variables`` hides local variables from Django's error reports), which
#: no unit test observes.
STRIPPED_DECORATORS = {"sensitive_variables"}


@dataclass
class Outcome:
    module: str
    seconds: float
    statuses: dict[str, str]
    diffs: dict[str, str]
    equivalent: dict[str, str] = field(default_factory=dict)
    unreachable: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)

    @property
    def mutants(self) -> int:
        return len(self.statuses)

    @property
    def killed(self) -> int:
        return sum(s == "killed" for s in self.statuses.values())

    @property
    def survivors(self) -> list[str]:
        """Mutants not killed (survived, timeout, no tests...) and not equivalent."""
        return sorted(
            (n for n, s in self.statuses.items() if s != "killed" and n not in self.equivalent),
            key=_natural,
        )

    @property
    def score(self) -> float:
        return self.killed / self.mutants if self.mutants else 0.0

    @property
    def passed(self) -> bool:
        return self.score >= GOAL and not self.survivors and not self.unreachable


def _natural(name: str) -> tuple[str, int]:
    function, _, number = name.rpartition("__mutmut_")
    return function, int(number) if number.isdigit() else 0


# -- equivalents --------------------------------------------------------------------


@dataclass(frozen=True)
class Equivalent:
    line: str
    reason: str


def load_equivalents(path: Path = EQUIVALENTS) -> dict[str, Equivalent]:
    """``mutant name | the line the mutant makes | why it changes nothing``, one a line."""
    entries: dict[str, Equivalent] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in raw.split(" | ")]
        if len(parts) != 3 or not all(parts):
            raise SystemExit(f"{path}:{number}: expected 'name | mutated line | reason'")
        name, line, reason = parts
        if name in entries:
            raise SystemExit(f"{path}:{number}: {name} is listed twice")
        entries[name] = Equivalent(line, reason)
    return entries


def mutated_line(diff: str) -> str:
    """The mutant's own line(s) in mutmut's diff, joined by ' / '; a mutant that only
    removes lines is ``(removed) `` and the lines it removes."""
    added = [
        line[1:].strip()
        for line in diff.splitlines()
        if line.startswith("+") and not line.startswith("+++")
    ]
    if added:
        return " / ".join(added)
    removed = [
        line[1:].strip()
        for line in diff.splitlines()
        if line.startswith("-") and not line.startswith("---")
    ]
    return f"(removed) {' / '.join(removed)}" if removed else ""


def apply_equivalents(outcome: Outcome, equivalents: dict[str, Equivalent]) -> None:
    """Mark the listed survivors equivalent; an entry whose line no longer matches is
    stale (the code moved on) and its mutant counts as a survivor."""
    prefix = f"ion_oauth.{outcome.module}."
    for name, entry in equivalents.items():
        if not name.startswith(prefix):
            continue
        status = outcome.statuses.get(name)
        if status is None or status == "killed":
            outcome.stale.append(f"{name} is {status or 'no longer a mutant'}")
        elif mutated_line(outcome.diffs.get(name, "")) != entry.line:
            outcome.stale.append(f"{name} now makes a different change")
        else:
            outcome.equivalent[name] = entry.reason


# -- decorated functions ------------------------------------------------------------


def unreachable_functions(source: Path) -> list[str]:
    """Functions mutmut leaves alone because of a decorator it cannot see through."""
    found = []
    for node in ast.walk(ast.parse(source.read_text())):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        names = {_decorator_name(d) for d in node.decorator_list}
        names -= TRANSPARENT_DECORATORS | STRIPPED_DECORATORS
        if names:
            found.append(f"{node.name} (@{', @'.join(sorted(names))})")
    return found


def _decorator_name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    return ast.unparse(node)


# -- one module -----------------------------------------------------------------------


def strip_decorators(source: str) -> str:
    """``source`` without the lines that apply one of :data:`STRIPPED_DECORATORS`."""
    kept = []
    for line in source.splitlines(keepends=True):
        applied = re.match(r"\s*@([\w.]+)", line)
        if applied and applied.group(1).rpartition(".")[2] in STRIPPED_DECORATORS:
            continue
        kept.append(line)
    return "".join(kept)


def sources(module: str, root: Path = ROOT) -> list[Path]:
    """The files a module name stands for: ``ion_oauth/<module>.py``, or every ``.py`` file
    of the package ``ion_oauth/<module>/``."""
    single = root / "ion_oauth" / f"{module}.py"
    if single.is_file():
        return [single]
    return sorted((root / "ion_oauth" / module).glob("*.py"))


def mutate_pattern(module: str, root: Path = ROOT) -> str:
    """mutmut's ``only_mutate`` glob for a module or package."""
    return (
        f"ion_oauth/{module}.py"
        if (root / "ion_oauth" / f"{module}.py").is_file()
        else (f"ion_oauth/{module}/*")
    )


def prepare(module: str, tests: list[str]) -> Path:
    """A scratch copy of the project whose pyproject.toml tells mutmut what to do."""
    work = WORK / module
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    shutil.copytree(ROOT / "ion_oauth", work / "ion_oauth", ignore=ignore)
    shutil.copytree(ROOT / "tests", work / "tests", ignore=ignore)
    for mutated in sources(module, work):
        mutated.write_text(strip_decorators(mutated.read_text()))
    selection = json.dumps(tests)
    config = f"""
[tool.mutmut]
source_paths = ["ion_oauth"]
only_mutate = ["{mutate_pattern(module)}"]
pytest_add_cli_args_test_selection = {selection}
pytest_add_cli_args = ["-p", "no:cacheprovider"]
process_isolation = "forkserver"
"""
    pyproject = (ROOT / "pyproject.toml").read_text()
    (work / "pyproject.toml").write_text(pyproject + config)
    return work


def run_module(module: str, jobs: int) -> Outcome:
    work = prepare(module, MODULES[module])
    started = time.monotonic()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("ION_OAUTH_EXPECT_INSTALLED", None)
    log = work / "mutmut.log"
    with log.open("w") as out:
        result = subprocess.run(
            [sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs)],
            check=False,
            cwd=work,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    seconds = time.monotonic() - started
    if result.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"mutmut failed on {module} (exit {result.returncode}):\n{tail}")
    collected = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--collect"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(collected.stdout)
    outcome = Outcome(module, seconds, data["statuses"], data["diffs"])
    outcome.unreachable = [f for path in sources(module) for f in unreachable_functions(path)]
    return outcome


def collect() -> None:
    """Run inside a module's scratch copy: every mutant's status, and survivors' diffs."""
    from mutmut.__main__ import collect_source_file_mutation_data
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code

    mutants, _ = collect_source_file_mutation_data(mutant_names=())
    statuses: dict[str, str] = {}
    diffs: dict[str, str] = {}
    for data, name, exit_code in mutants:
        statuses[name] = status_by_exit_code[exit_code]
        if statuses[name] != "killed":
            diffs[name] = get_diff_for_mutant(name, path=data.path)
    json.dump({"statuses": statuses, "diffs": diffs}, sys.stdout)


# -- the report -----------------------------------------------------------------------


def report(outcomes: list[Outcome]) -> str:
    lines = [
        "| module | mutants | killed | survived | equivalent | score | time |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for o in outcomes:
        lines.append(
            f"| {o.module} | {o.mutants} | {o.killed} | {len(o.survivors)} | "
            f"{len(o.equivalent)} | {o.score:.1%} | {o.seconds / 60:.1f} min |"
        )
    total = sum(o.mutants for o in outcomes)
    killed = sum(o.killed for o in outcomes)
    survived = sum(len(o.survivors) for o in outcomes)
    equivalent = sum(len(o.equivalent) for o in outcomes)
    minutes = sum(o.seconds for o in outcomes) / 60
    score = f"{killed / total:.1%}" if total else "-"
    lines.append(
        f"| **all** | {total} | {killed} | {survived} | {equivalent} | {score} | {minutes:.1f} min |"
    )
    lines += ["", f"Score: killed / mutants. Goal: {GOAL:.0%} per module and no survivor."]
    for o in outcomes:
        if o.survivors:
            lines += ["", f"## Survivors in {o.module}", ""]
            for name in o.survivors:
                change = mutated_line(o.diffs.get(name, "")) or "(line removed)"
                lines.append(f"- `{name}` ({o.statuses[name]}): `{change}`")
        if o.unreachable:
            lines += ["", f"## Functions of {o.module} that mutmut cannot reach", ""]
            lines += [f"- {f}" for f in o.unreachable]
        if o.stale:
            lines += ["", f"## Stale entries for {o.module} in mutation/equivalent.txt", ""]
            lines += [f"- {s}" for s in o.stale]
        if o.equivalent:
            lines += ["", f"## Equivalent mutants in {o.module}", ""]
            for name in sorted(o.equivalent, key=_natural):
                lines.append(f"- `{name}`: {o.equivalent[name]}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=", ".join(MODULES))
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once (2)")
    parser.add_argument("--collect", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.collect:
        collect()
        return 0
    unknown = sorted(set(args.modules) - set(MODULES))
    if unknown:
        parser.error(f"unknown module(s) {', '.join(unknown)}; choose from {', '.join(MODULES)}")
    modules = args.modules or list(MODULES)
    equivalents = load_equivalents()
    outcomes = []
    for module in modules:
        print(f"mutating {mutate_pattern(module)} against {' '.join(MODULES[module])}", flush=True)
        outcome = run_module(module, args.jobs)
        apply_equivalents(outcome, equivalents)
        outcomes.append(outcome)
        print(
            f"  {outcome.mutants} mutants, {outcome.killed} killed, {len(outcome.survivors)} "
            f"survived, {len(outcome.equivalent)} equivalent: {outcome.score:.1%} "
            f"in {outcome.seconds / 60:.1f} min",
            flush=True,
        )
    table = report(outcomes)
    RESULTS.mkdir(exist_ok=True)
    name = "mutation.md" if not args.modules else f"mutation-{'-'.join(modules)}.md"
    (RESULTS / name).write_text(table)
    print()
    print(table)
    print(f"written to {(RESULTS / name).relative_to(ROOT)}")
    return 0 if all(o.passed for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
