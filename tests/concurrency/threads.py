"""Threads released together, for races against the real database."""

import threading
from collections.abc import Callable

from django.db import connection

JOIN_TIMEOUT_SECONDS = 120


def race(n_threads: int, work: Callable[[int], object]) -> list:
    """Run work(i) in n real threads released together; return each result (or the exception it raised).

    Every thread closes its own database connection: Django opens one per thread and never closes it.
    """
    barrier = threading.Barrier(n_threads)
    results: list = [None] * n_threads

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except BaseException as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,), name=f"race-{i}") for i in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=JOIN_TIMEOUT_SECONDS)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung (deadlock?)"
    return results
