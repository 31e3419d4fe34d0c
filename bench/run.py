"""What a login with Ion costs, measured in one run: ``python bench/run.py --out bench-results/``.

Writes ``results.md`` (the table, also printed) and ``results.json`` (every figure, with
the SQL of the measured logins). Two halves:

* in-process (:mod:`bench_inprocess`): logins through Django's test client, Ion and GitLab
  faked with ``responses``: CPU time beside social-core's GitLab backend, database queries;
* live (:mod:`bench_live`): the Ion sandbox and the example project as servers on loopback,
  scripted browsers logging in: requests and new TCP connections to Ion per login,
  logins per second with 1, 8 and 32 users, refresh requests under contention; requests to
  Ion per view of the eighth-period page and per school year of blocks (:mod:`bench_eighth`);
* at a distance (:mod:`bench_distance`): the callback over TLS through a proxy that
  simulates a round-trip time, in round trips, beside social-core's GitLab backend.

Ratios come from one run with the two backends interleaved login by login, as medians
over repetitions, because the machine running it is usually shared and noisy.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
# Run as a script, bench/ is already first on the path; imported (by tests/test_bench.py),
# it goes last, so its modules never shadow anyone else's.
if str(BENCH) not in sys.path:
    sys.path.append(str(BENCH))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python bench/run.py", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("bench-results"), help="results directory")
    parser.add_argument(
        "--repetitions", type=int, default=7, help="repetitions of the CPU comparison"
    )
    parser.add_argument(
        "--logins", type=int, default=20, help="logins per backend and repetition (CPU)"
    )
    parser.add_argument(
        "--users",
        default="1,8,32",
        help="concurrent users of the throughput phases, comma-separated",
    )
    parser.add_argument(
        "--seconds", type=float, default=8.0, help="length of each throughput phase"
    )
    parser.add_argument(
        "--skip-live", action="store_true", help="only the in-process half (no servers)"
    )
    parser.add_argument(
        "--rtts",
        default="20,80",
        help="simulated round-trip times (ms) of the TLS distance phase, comma-separated",
    )
    parser.add_argument(
        "--skip-distance", action="store_true", help="leave out the TLS distance phase"
    )
    return parser.parse_args(argv)


def configure_django(directory: Path) -> None:
    """Set up ``bench_settings`` with a SQLite file in ``directory``, unless a Django site
    is already configured (under pytest), and create the tables."""
    from django.conf import settings

    if not settings.configured and "DJANGO_SETTINGS_MODULE" not in os.environ:
        os.environ["DJANGO_SETTINGS_MODULE"] = "bench_settings"
        os.environ["ION_BENCH_DB"] = str(directory / "bench.sqlite3")
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def environment(argv: Sequence[str] | None) -> dict[str, Any]:
    """Where and with what the figures were measured."""
    import django
    import social_core

    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {load[0]:.1f}",
        "python": platform.python_version(),
        "django": django.get_version(),
        "social_core": social_core.__version__,
        "command": "python bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
    }


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run every measurement the arguments ask for; Django must be configured."""
    import bench_inprocess as inprocess
    from django.conf import settings

    results: dict[str, Any] = {
        "inprocess": inprocess.run(
            recommended=list(settings.SOCIAL_AUTH_PIPELINE),
            repetitions=args.repetitions,
            logins=args.logins,
        )
    }
    if not args.skip_live:
        import bench_live as live

        users = tuple(int(part) for part in args.users.split(",") if part)
        results["live"] = live.run(users=users, seconds=args.seconds, oidc_logins=5, refresh=True)
    if not args.skip_live and not args.skip_distance:
        import bench_distance as distance

        rtts = tuple(int(part) for part in args.rtts.split(",") if part)
        results["distance"] = distance.run(rtts_ms=rtts)
    return results


def write(results: dict[str, Any], out: Path) -> str:
    """Write results.json and results.md into ``out``; return the Markdown."""
    import bench_report as report

    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    table = report.markdown(results)
    (out / "results.md").write_text(table)
    return table


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, write the results, print the table."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ion-bench-db-") as tmp:
        configure_django(Path(tmp))
        results = measure(args)
    results["environment"] = environment(argv)
    print(write(results, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
