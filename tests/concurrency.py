"""Run the same work in threads released together, each on its own database connection."""

import threading

from django.db import connection


def race(workers, fn):
    """Run fn(i) in ``workers`` threads released together; returns their results (or exceptions)."""
    barrier = threading.Barrier(workers)
    results = [None] * workers

    def run(i):
        try:
            barrier.wait()
            results[i] = fn(i)
        except Exception as exc:  # noqa: BLE001  a refusal or an error is a result here
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results
