"""Run a function in several threads at once, and fail if any of them failed.

An exception in a ``threading.Thread`` is printed and forgotten: a test that only joins its
threads passes while they crash. Every threaded test goes through :func:`run_in_threads`
instead, which starts the threads together on a barrier, joins them with a deadline and
raises if any thread raised or is still running.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Seconds a test's threads may take in all before the test fails instead of hanging.
DEADLINE = 60.0


class ThreadsFailed(AssertionError):
    """One or more threads raised; ``errors`` holds each one, the first is the cause."""

    def __init__(self, errors: list[BaseException]) -> None:
        self.errors = errors
        summary = "; ".join(f"{type(e).__name__}: {e}" for e in errors)
        super().__init__(f"{len(errors)} thread(s) failed: {summary}")


def run_in_threads(
    function: Callable[[T], R],
    arguments: Iterable[T],
    *,
    threads: int | None = None,
    deadline: float = DEADLINE,
) -> list[R]:
    """Call ``function(argument)`` for each argument and return the results in order.

    ``threads`` threads (by default one per argument) are let go at the same moment and
    take the arguments in turn. Raises :class:`ThreadsFailed` if any call raised, and
    ``AssertionError`` if a thread is still running after ``deadline`` seconds.
    """
    work = list(enumerate(arguments))
    count = threads or len(work)
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * len(work)
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait(timeout=deadline)
        except BaseException as error:  # reported by the caller's thread
            with lock:
                errors.append(error)
            return
        while True:
            with lock:
                if not work:
                    return
                index, argument = work.pop(0)
            try:
                results[index] = function(argument)
            except BaseException as error:  # reported by the caller's thread
                with lock:
                    errors.append(error)

    started = [threading.Thread(target=run, daemon=True) for _ in range(count)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(timeout=deadline)
    alive = sum(thread.is_alive() for thread in started)
    if alive:
        raise AssertionError(f"{alive} thread(s) still running after {deadline} s")
    if errors:
        raise ThreadsFailed(errors) from errors[0]
    return results
