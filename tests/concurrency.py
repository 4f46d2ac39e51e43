"""Run work in threads, each on its own database connection: the same work released together
(``race``), or one transaction made to wait for another's locks (``after_racer``)."""

import threading
import time

from django.db import connection, transaction


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


def waiting_on_a_lock(thread, timeout=10.0):
    """Until another connection of this database waits for a row lock (or ``thread`` is done):
    the moment to let the transaction holding it commit."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline and thread.is_alive():
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.01)
    return False


class Holding(threading.Thread):
    """Runs ``fn`` in a transaction of its own connection and keeps the transaction open, its
    locks held, until ``commit`` is set."""

    def __init__(self, fn):
        super().__init__(daemon=True)
        self.fn, self.done, self.commit, self.error = fn, threading.Event(), threading.Event(), None

    def run(self):
        try:
            with transaction.atomic():
                self.fn()
                self.done.set()
                self.commit.wait(20)
        except Exception as exc:  # noqa: BLE001  reported by the test
            self.error = exc
        finally:
            self.done.set()
            connection.close()


class Outcome(threading.Thread):
    """Runs ``fn`` on its own connection; keeps its result or the exception it raised."""

    def __init__(self, fn):
        super().__init__(daemon=True)
        self.fn, self.result = fn, None

    def run(self):
        try:
            self.result = self.fn()
        except Exception as exc:  # noqa: BLE001  a refusal or an error is the outcome here
            self.result = exc
        finally:
            connection.close()


def after_racer(racer_fn, fn):
    """``fn`` started while ``racer_fn``'s transaction holds its locks, the racer committing
    once ``fn`` waits for them: what ``fn`` ends with."""
    racer = Holding(racer_fn)
    racer.start()
    assert racer.done.wait(20) and racer.error is None, racer.error
    late = Outcome(fn)
    late.start()
    waiting_on_a_lock(late)
    racer.commit.set()
    racer.join(20)
    late.join(20)
    assert racer.error is None, racer.error
    return late.result
