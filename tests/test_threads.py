"""tests/threads.py: the helper every threaded test uses must itself fail when a thread does."""

from __future__ import annotations

import threading

import pytest
from threads import ThreadsFailed, run_in_threads


def test_results_come_back_in_the_order_of_the_arguments():
    assert run_in_threads(lambda n: n * n, range(6)) == [0, 1, 4, 9, 16, 25]


def test_one_failing_thread_fails_the_run_naming_its_error():
    def call(n: int) -> int:
        if n == 3:
            raise TypeError("thread three broke")
        return n

    with pytest.raises(ThreadsFailed) as caught:
        run_in_threads(call, range(8))

    assert [str(e) for e in caught.value.errors] == ["thread three broke"]
    assert "TypeError: thread three broke" in str(caught.value)


def test_every_failing_thread_is_reported():
    def call(n: int) -> None:
        raise ValueError(n)

    with pytest.raises(ThreadsFailed) as caught:
        run_in_threads(call, range(5), threads=2)

    assert sorted(e.args[0] for e in caught.value.errors) == [0, 1, 2, 3, 4]


def test_the_threads_start_together():
    inside = threading.Barrier(4)

    # Each call waits for all four: it can only finish if the four run at the same time.
    assert run_in_threads(lambda _: inside.wait(timeout=10) is not None, range(4)) == [True] * 4


def test_fewer_threads_than_arguments_take_turns():
    names: set[str] = set()
    lock = threading.Lock()

    def call(n: int) -> int:
        with lock:
            names.add(threading.current_thread().name)
        return n

    assert run_in_threads(call, range(20), threads=3) == list(range(20))
    assert 1 <= len(names) <= 3


def test_a_thread_that_never_finishes_fails_the_run():
    stop = threading.Event()

    with pytest.raises(AssertionError, match="still running"):
        run_in_threads(lambda _: stop.wait(timeout=5), range(2), deadline=0.2)
    stop.set()
