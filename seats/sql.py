"""The statements of the seat hot paths, in one place: a login's take, every release, a pool's take.

Each is one PostgreSQL statement, so a pool row is locked only while PostgreSQL runs it, and each
reads the definitions the ORM reads: an entitlement's ``capacity`` is the generated column of
licenses.Entitlement, and "the entitlement in force on a day" is compiled from
``EntitlementQuerySet.valid_on``. The services around them (seats/services/) read as the rules.

Statements that write a tracked table carry their audit context (licenses/audit.py) in a first
CTE, as pghistory's ``set_config`` calls that its triggers read: they run prepared, and a
prepared statement cannot take the separate statement pghistory puts before an ORM query.

Prepared: planning these statements cost PostgreSQL more than running them, so they are prepared
once per connection. Behind a pooler that cannot keep prepared statements (PgBouncer in
transaction mode before 1.21, or without ``max_prepared_statements``) set
``IWP_PREPARED_STATEMENTS=0``. Parameters are bound by PostgreSQL, so a NULL it cannot type from
its context needs a cast (``%(actor)s::bigint``).
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.db import connection
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models.expressions import RawSQL

from licenses.models import Entitlement

_CONTEXT = """ctx AS (
  SELECT set_config('pghistory.context_id', %(pgh_context_id)s, true),
         set_config('pghistory.context_metadata', %(pgh_context_metadata)s, true)
)"""


@cache
def capacity_sql() -> str:
    """The capacity of pool ``p`` on ``%(day)s``: its entitlement in force, or 0 without one."""

    def raw(sql):
        return RawSQL(sql, ())

    in_force = (
        Entitlement.objects.valid_on(raw("%(day)s::date"))
        .filter(
            license_file__server_id=raw("p.server_id"),
            license_type=raw("p.license_type"),
            method=raw("p.method"),
        )
        .values("capacity")
    )
    sql, params = in_force.query.sql_with_params()
    assert not params, params
    return f"COALESCE(({sql} LIMIT 1), 0)"


def _pool(method: str) -> str:
    return f"p.server_id = %(server)s AND p.license_type = %(license)s AND p.method = '{method}'"


# A pool row's seats held by the organization ``org`` (an SQL expression of its id), from the
# per-organization counts the takes and releases keep on the row.
def _held(org: str) -> str:
    return f"COALESCE((p.organization_in_use ->> ({org})::text)::int, 0)"


def _held_plus(counts: str, sign: str = "+") -> str:
    """The row's per-organization counts with ``counts`` (jsonb: organization id -> seats) added
    (or subtracted, with ``sign`` "-")."""
    return f"""p.organization_in_use || (
      SELECT COALESCE(jsonb_object_agg(e.key, {_held("e.key")} {sign} e.value::int), '{{}}')
      FROM jsonb_each_text({counts}) AS e(key, value))"""


def _pending(org: str) -> str:
    """Seats of the organization ``org`` taken earlier in the transaction and not yet written
    (``%(pending)s``: jsonb, organization id -> seats)."""
    return f"COALESCE((%(pending)s::jsonb ->> ({org})::text)::int, 0)"


def _others_unused_reserves(method: str, *, pending: bool = False) -> str:
    """The seats the other organizations of the server hold in reserve in pool ``p`` and do not
    use (nor have ``pending``): what a take by ``%(organization)s`` must leave free."""
    held = _held("s.organization_id") + (f" + {_pending('s.organization_id')}" if pending else "")
    return f"""(SELECT COALESCE(SUM(GREATEST(s.reserve - ({held}), 0)), 0)::int
     FROM seats_poolshare s JOIN organizations_organization o ON o.id = s.organization_id
     WHERE o.server_id = %(server)s AND o.is_active AND s.license_type = %(license)s
       AND s.method = '{method}' AND s.organization_id <> %(organization)s)"""


@cache
def lease_take_sql() -> str:
    """Take one Concurrent seat if the pool has room and the user holds none on the server, and
    insert the lease holding it. In a shared pool (reserves or caps, seats.PoolShare) the seat must
    also fit the organization's cap and leave the other organizations' unused reserves free.

    Every condition reads the pool row or tables that takes do not change, so a take that waited
    for a racer re-checks them all on the row the racer committed (PostgreSQL's EvalPlanQual): no
    lock beyond the UPDATE's own is needed, shared pool or not.

    Returns one row: the lease id (NULL when none was taken), the pool's seats in use after the
    take, the organization's seats in use in the pool after it; and for when none was taken: the
    pool's seats in use, its capacity, the server's name, whether the user holds a seat on the
    server, whether a seat of the pool is held by a session idle since before ``%(cutoff)s`` or an
    API client whose heartbeat was due before ``%(now)s`` (looked for only then: it reads every
    seat the pool holds), and whether the pool is shared.
    """
    held = """EXISTS (SELECT 1 FROM seats_seatlease l
    WHERE l.server_id = %(server)s AND l.user_id = %(user)s AND l.released_at IS NULL)"""
    mine = _held("%(organization)s")
    shares = f"""(NOT p.shared OR (
      COALESCE((SELECT s.cap IS NULL OR {mine} + 1 <= s.cap FROM seats_poolshare s
                WHERE s.organization_id = %(organization)s AND s.license_type = %(license)s
                  AND s.method = 'concurrent'), true)
      AND p.in_use + 1 + {_others_unused_reserves("concurrent")} <= {capacity_sql()}))"""
    return f"""
WITH {_CONTEXT},
take AS (
  UPDATE seats_seatpool p SET in_use = p.in_use + 1,
    organization_in_use = p.organization_in_use
      || jsonb_build_object((%(organization)s)::text, {mine} + 1)
  WHERE {_pool("concurrent")} AND p.in_use + 1 <= {capacity_sql()}
    AND NOT {held} AND (SELECT true FROM ctx) AND {shares}
  RETURNING p.in_use, {mine} AS organization_in_use
), lease AS (
  INSERT INTO seats_seatlease (server_id, organization_id, license_type, user_id, session_key,
                               source, client_id, acquired_at, last_seen_at, expires_at,
                               release_reason)
  SELECT %(server)s, %(organization)s, %(license)s, %(user)s, %(session)s, %(source)s,
         %(client)s, %(now)s, %(now)s, %(expires)s::timestamptz, ''
  FROM take
  RETURNING id
)
SELECT (SELECT id FROM lease), (SELECT in_use FROM take), (SELECT organization_in_use FROM take),
  p.in_use, {capacity_sql()}, s.server_id, {held},
  CASE WHEN NOT EXISTS (SELECT 1 FROM take) THEN EXISTS (SELECT 1 FROM seats_seatlease l
    WHERE l.server_id = %(server)s AND l.license_type = %(license)s AND l.released_at IS NULL
      AND ({RELEASE_STALE})) END,
  p.shared
FROM seats_seatpool p JOIN organizations_server s ON s.id = p.server_id
WHERE {_pool("concurrent")}
"""


@cache
def pool_take_sql(shared: bool = False) -> str:
    """Take ``%(seats)s`` seats of an Assignable pool if they all fit (a shared pool only with
    ``shared``, once shares.share_refusal has locked it and found room for each organization);
    ``%(per_organization)s`` (jsonb: organization id -> seats) says whose they are.

    Returns the pool's seats in use (after the take, or as they stand when refused), its capacity,
    whether the seats were taken, and whether the pool is shared.
    """
    return f"""
WITH take AS (
  UPDATE seats_seatpool p SET in_use = p.in_use + %(seats)s,
    organization_in_use = {_held_plus("%(per_organization)s::jsonb")}
  WHERE {_pool("assignable")} AND p.in_use + %(seats)s <= {capacity_sql()}
    {"" if shared else "AND NOT p.shared"}
  RETURNING p.in_use
)
SELECT COALESCE((SELECT in_use FROM take), p.in_use), {capacity_sql()},
       EXISTS (SELECT 1 FROM take), p.shared
FROM seats_seatpool p WHERE {_pool("assignable")}
"""


def pool_lock_sql(method: str) -> str:
    """Lock a pool row to the end of the transaction: every take and every release of the pool
    updates this row, so the statements that follow read its seats as they stand."""
    return f"SELECT p.id FROM seats_seatpool p WHERE {_pool(method)} FOR UPDATE"


@cache
def share_check_sql(method: str) -> str:
    """A shared pool as an organization about to take seats sees it: the pool's seats in use and
    capacity, the organization's cap and seats held, and the seats other organizations hold in
    reserve and do not use. ``%(pending)s`` (JSON, organization id -> seats) counts seats taken
    earlier in the transaction and not yet written. Under pool_lock_sql it is exact; without, it
    explains a refusal the take statement made a moment ago.
    """

    return f"""
SELECT p.in_use, {capacity_sql()},
  (SELECT s.cap FROM seats_poolshare s WHERE s.organization_id = %(organization)s
     AND s.license_type = %(license)s AND s.method = '{method}'),
  {_held("%(organization)s")} + {_pending("%(organization)s")},
  {_others_unused_reserves(method, pending=True)}
FROM seats_seatpool p WHERE {_pool(method)}
"""


# Which seats a release names (each is also limited to the seats still held).
RELEASE_BY_IDS = "id = ANY(%(ids)s)"
RELEASE_BY_USER = "user_id = %(user)s"
RELEASE_BY_SESSION = "session_key = %(session)s"  # a logout
RELEASE_BY_SESSIONS = "session_key = ANY(%(sessions)s)"
# A browser session idle past the limit; a seat API client whose heartbeat is overdue.
RELEASE_IDLE = "expires_at IS NULL AND last_seen_at < %(cutoff)s"
RELEASE_EXPIRED = "expires_at < %(now)s"
RELEASE_STALE = f"({RELEASE_IDLE}) OR {RELEASE_EXPIRED}"
IN_POOL = "server_id = %(server)s AND license_type = %(license)s AND "
# A seat taken by a login that never got its session (the process or the connection died between
# the take and the session's creation).
RELEASE_ORPHANED = "source = 'browser' AND session_key = '' AND acquired_at < %(cutoff)s"

# A seat API client's heartbeat: one statement, its lease's new expiry (and the station it
# occupies seen now), or no row when the lease is not a held API lease of the server.
LEASE_HEARTBEAT = """
WITH beat AS (
  UPDATE seats_seatlease SET expires_at = %(expires)s, last_seen_at = %(now)s
  WHERE id = %(id)s AND server_id = %(server)s AND source = 'api' AND released_at IS NULL
  RETURNING session_key, expires_at
), station AS (
  UPDATE seats_stationoccupancy o SET last_seen_at = %(now)s FROM beat
  WHERE o.session_key = beat.session_key AND o.ended_at IS NULL
)
SELECT expires_at FROM beat
"""


@cache
def release_sql(table: str, method: str, where: str) -> str:
    """Release the seats of ``table`` that ``where`` names and that are still held, each exactly
    once (a racing release of the same seat finds it released and changes nothing), and give them
    back to their pools unless ``%(give_back)s`` is false (a seat passed on to a newer session).

    Returns the released rows: id, server, organization, license, user, and the session
    (leases) or station (assignments).
    """
    holder = "session_key" if table == "seats_seatlease" else "station_id"
    return f"""
WITH {_CONTEXT},
rel AS (
  UPDATE {table} SET released_at = %(now)s, release_reason = %(reason)s,
                     released_by_id = %(actor)s::bigint
  WHERE {where} AND released_at IS NULL AND (SELECT true FROM ctx)
  RETURNING id, server_id, organization_id, license_type, user_id, {holder}
), back AS (
  UPDATE seats_seatpool p SET in_use = p.in_use - c.n,
    organization_in_use = {_held_plus("c.per_organization", "-")}
  FROM (SELECT server_id, license_type, sum(n)::int AS n,
               jsonb_object_agg(organization_id::text, n) AS per_organization
        FROM (SELECT server_id, license_type, organization_id, count(*) AS n FROM rel
              GROUP BY server_id, license_type, organization_id) r
        GROUP BY server_id, license_type) c
  WHERE %(give_back)s AND p.server_id = c.server_id AND p.license_type = c.license_type
    AND p.method = '{method}'
)
SELECT * FROM rel ORDER BY id
"""


# The most seats of each pool held at one time during [%(start)s, %(end)s), from the seats' own
# history (assigned or acquired, and released): the seats held when the span starts, then the
# running sum of each take (+1) and release (-1) within it, a release first at one instant. Only
# the seats taken or released within the span are sorted, not those held through it.
SEATS_PEAK_SQL = """
WITH held AS (
  SELECT server_id, license_type, 'assignable' AS method, assigned_at AS since, released_at AS till
  FROM seats_seatassignment
  WHERE assigned_at < %(end)s AND (released_at IS NULL OR released_at > %(start)s)
  UNION ALL
  SELECT server_id, license_type, 'concurrent', acquired_at, released_at
  FROM seats_seatlease
  WHERE acquired_at < %(end)s AND (released_at IS NULL OR released_at > %(start)s)
), at_start AS (
  SELECT server_id, license_type, method, count(*) AS n FROM held WHERE since <= %(start)s
  GROUP BY server_id, license_type, method
), steps AS (
  SELECT server_id, license_type, method, since AS at, 1 AS step FROM held
  WHERE since > %(start)s
  UNION ALL
  SELECT server_id, license_type, method, till, -1 FROM held WHERE till < %(end)s
), running AS (
  SELECT server_id, license_type, method,
         sum(step) OVER (PARTITION BY server_id, license_type, method
                         ORDER BY at, step ROWS UNBOUNDED PRECEDING) AS n
  FROM steps
), rise AS (
  SELECT server_id, license_type, method, max(n) AS n FROM running
  GROUP BY server_id, license_type, method
)
SELECT server_id, license_type, method, COALESCE(s.n, 0) + GREATEST(COALESCE(r.n, 0), 0)
FROM at_start s FULL JOIN rise r USING (server_id, license_type, method)
"""

# Per user and server, the memberships that decide the license a user needs (seats/rules.py):
# of the given users (the locked form also locks their rows, so two logins of one user take
# turns), or of every active user of a license method who is a member of ``%(organizations)s``.
_MEMBERSHIPS = """
SELECT m.user_id, o.server_id, o.id, m.role
FROM organizations_membership m {lock_join}
JOIN organizations_organization o ON o.id = m.organization_id
WHERE {users} AND o.is_active AND NOT o.is_wallboard
ORDER BY m.user_id, o.server_id, o.name, o.id
{lock}"""
_OF_USERS = "m.user_id = ANY(%(users)s)"
MEMBERSHIPS_SQL = _MEMBERSHIPS.format(lock_join="", users=_OF_USERS, lock="")
MEMBERSHIPS_LOCKED_SQL = _MEMBERSHIPS.format(
    lock_join="JOIN organizations_user u ON u.id = m.user_id",
    users=_OF_USERS,
    lock="FOR NO KEY UPDATE OF u",
)
MEMBERSHIPS_OF_MEMBERS_SQL = _MEMBERSHIPS.format(
    lock_join="",
    users="""m.user_id IN (SELECT mm.user_id FROM organizations_membership mm
    JOIN organizations_user u ON u.id = mm.user_id
    WHERE mm.organization_id = ANY(%(organizations)s) AND u.license_method = %(method)s
      AND u.is_active)""",
    lock="",
)

# The utilisation thresholds a pool (or an organization's capped share, %(organization)s NULL for
# the whole pool) reached on a day, each recorded once: a threshold recorded already, by this
# process or another, inserts nothing (the unique constraint). Returns the new ones, with the
# server's and organization's names for the log.
THRESHOLD_ALERT_INSERT = """
WITH new AS (
  INSERT INTO seats_thresholdalert (day, server_id, organization_id, license_type, method,
                                    threshold, in_use, capacity, created_at)
  SELECT %(day)s, %(server)s, %(organization)s::bigint, %(license)s, %(method)s, t, %(in_use)s,
         %(capacity)s, %(now)s
  FROM unnest(%(thresholds)s::int[]) AS t
  ON CONFLICT DO NOTHING
  RETURNING id, threshold
)
SELECT new.id, new.threshold, s.server_id, o.name
FROM new JOIN organizations_server s ON s.id = %(server)s
LEFT JOIN organizations_organization o ON o.id = %(organization)s::bigint
ORDER BY new.threshold
"""


def execute(statement: str, params: dict) -> list[tuple]:
    """Run one hot statement and return its rows (each of them returns rows)."""
    with _cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


class _PreparedCursor(ServerBindingCursor):
    """Server-side binding, and always prepared (Django leaves psycopg's prepare threshold off)."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


class _Wrapper(CursorWrapper):
    """Django's cursor wrapper (its database errors, its query log) without its execute wrappers:
    pghistory's would put a second statement in front of a prepared one. These statements set
    their audit context themselves."""

    def execute(self, sql, params=None):
        return self._execute(sql, params)


class _DebugWrapper(CursorDebugWrapper):
    """Logs a prepared statement with its values, as Django's debug cursor logs others (so they
    count in ``assertNumQueries``); psycopg keeps no text of a prepared statement to read back."""

    def execute(self, sql, params=None):
        with self.debug_sql(self.db.ops.compose_sql(sql, params) if params else sql, params):
            return self._execute(sql, params)


# A prepare threshold no statement reaches turns psycopg's preparing back on for the statements
# that ask (these) and no others.
_ONLY_WHEN_ASKED = 2**31 - 1


def _cursor():
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        if settings.IWP_PREPARED_STATEMENTS:
            if connection.connection.prepare_threshold is None:
                connection.connection.prepare_threshold = _ONLY_WHEN_ASKED
            raw = _PreparedCursor(connection.connection)
        else:
            raw = connection.connection.cursor()
    wrapper = _DebugWrapper if connection.queries_logged else _Wrapper
    return wrapper(raw, connection)
