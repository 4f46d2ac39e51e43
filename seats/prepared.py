"""The statements every login and logout runs, as prepared statements on PostgreSQL.

A login runs the same few statements every time (the user's requirement, the pool's state, the
take); a logout runs one. Planning them cost PostgreSQL more than running them (EXPLAIN: 0.46 ms of
planning against 0.32 ms of execution for the take), so they are prepared once per connection and
then only executed. Django's own cursors bind parameters on the client and never prepare, to keep
transaction-mode connection poolers working; these statements use a server-binding cursor that
always prepares. Behind a pooler that cannot keep prepared statements (PgBouncer in transaction mode
before 1.21, or without ``max_prepared_statements``), set ``IWP_PREPARED_STATEMENTS=0``.

Parameters are bound by PostgreSQL here, so a NULL that PostgreSQL cannot type from its context
needs an explicit cast in the SQL (``%(actor)s::integer``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper


class PreparedCursor(ServerBindingCursor):
    """Server-side binding, and always prepared (Django leaves psycopg's prepare threshold off)."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


class PreparedDebugCursor(CursorDebugWrapper):
    """Logs a prepared statement with its values, as Django's debug cursor logs others.

    (Django reads the executed text back from psycopg, which keeps none for a prepared statement.)
    """

    def execute(self, sql, params=None):
        with self.debug_sql(self.db.ops.compose_sql(sql, params) if params else sql, params):
            return CursorWrapper.execute(self, sql, params)


_ONLY_WHEN_ASKED = 2**31 - 1


def hot_cursor():
    """A cursor for a login or logout statement: prepared on PostgreSQL, Django's plain cursor elsewhere.

    Wrapped like Django's own cursors, so database errors are Django's (IntegrityError) and the
    statements count in ``assertNumQueries`` and the debug toolbar.
    """
    if connection.vendor != "postgresql" or not settings.IWP_PREPARED_STATEMENTS:
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        if connection.connection.prepare_threshold is None:
            # Django turns psycopg's preparing off (None), and with it prepare=True. A threshold no
            # statement reaches turns it back on for the statements that ask (these) and no others.
            connection.connection.prepare_threshold = _ONLY_WHEN_ASKED
        raw = PreparedCursor(connection.connection)
    return (
        PreparedDebugCursor(raw, connection)
        if connection.queries_logged
        else connection.make_cursor(raw)
    )
