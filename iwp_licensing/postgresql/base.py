"""Django's PostgreSQL backend, with a health check that needs no round trip.

With CONN_HEALTH_CHECKS, Django asks a reused connection ``SELECT 1`` before each request's
first query, so that a connection the server closed (a restart, a crash, an administrator's
``pg_terminate_backend``) is replaced instead of failing the request. That round trip cost a
seat API heartbeat ~0.08 ms of a worker's CPU and ~0.3 ms of waiting in 2 (docs/benchmarks.md).
A connection the server closed has something to read on its socket (the server's farewell, or
the end of the stream), and an idle healthy one has nothing: so a poll of the socket, which
takes no time, tells the two apart. A connection that fails the poll, by mistake or not, is
only replaced.
"""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        conn = self.connection
        if conn is None or conn.closed or conn.broken:
            return False
        try:
            poll = select.poll()
            poll.register(conn.fileno(), select.POLLIN)
            return not poll.poll(0)
        except (OSError, ValueError):
            return False
