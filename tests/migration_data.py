"""A clean test database at the start of every session, and the rows that migrations create.

A transactional test ends with Django's flush of every table, which also deletes what the data
migrations inserted (the beat entries); with `--reuse-db` the next session would start without
them. A session killed during a transactional test leaves that test's committed rows behind, and
the next session's tests would collide with them (UniqueViolation at setup).

So each session starts by flushing the test database and the test Redis database, then replays
the data migrations as `migrate` ran them (each against its migration's historical models), and
keeps the rows they wrote; `restore()` puts those rows back before each transactional test.
Replaying takes seconds, so the rows are kept in pytest's cache under a digest of the migration
files, and replayed again only when a migration changes.
"""

import functools
import hashlib
import inspect

from django.core import serializers
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.operations import RunPython

_rows: list[str] = []


def _all_rows():
    from django.apps import apps

    rows = {}
    for model in apps.get_models():
        if not model._meta.managed or model._meta.proxy:
            continue
        for obj in model._base_manager.all():
            rows[(model._meta.label, obj.pk)] = obj
    return rows


def _plan():
    """Every migration in migrate's order, read from the files alone (no connection: `make
    mutation` computes it once, before it forks a session per mutant)."""
    executor, _digest = plan_and_digest()
    return executor, executor.migration_plan(executor.loader.graph.leaf_nodes(), clean_start=True)


@functools.cache
def plan_and_digest() -> tuple[MigrationExecutor, str]:
    """The migrations (an executor over the files) and a digest of their source."""
    executor = MigrationExecutor(None)
    digest = hashlib.sha256()
    for migration, _backwards in executor.migration_plan(
        executor.loader.graph.leaf_nodes(), clean_start=True
    ):
        digest.update(inspect.getsource(inspect.getmodule(migration)).encode())
    return executor, digest.hexdigest()


def _replay_data_migrations(executor, plan):
    """Run every top-level RunPython of every migration, in migrate's order, with that point's
    historical models; schema operations only move the state along. (RunPython inside
    SeparateDatabaseAndState moves existing rows of a renamed table: nothing to do when empty.)"""
    state = executor._create_project_state(with_applied_migrations=False)
    with connection.schema_editor(atomic=True) as editor:
        for migration, _backwards in plan:
            for operation in migration.operations:
                if isinstance(operation, RunPython):
                    operation.database_forwards(migration.app_label, editor, state, state)
                operation.state_forwards(migration.app_label, state)


def _leftovers(rows):
    """Whether any table holds rows besides the content types, the permissions and `rows`
    (one statement; a TRUNCATE of every table costs more than this check)."""
    expected = {}
    for row in serializers.deserialize("json", rows):
        table = row.object._meta.db_table
        expected[table] = expected.get(table, 0) + 1
    skip = {"django_content_type", "auth_permission"}
    tables = set(connection.introspection.django_table_names(only_existing=True)) - skip
    quote = connection.ops.quote_name
    sql = " UNION ALL ".join(
        f"SELECT %s, (SELECT count(*) FROM {quote(t)}) HAVING (SELECT count(*) FROM {quote(t)}) "
        f"<> {expected.get(t, 0)}"
        for t in sorted(tables)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, sorted(tables))
        return cursor.fetchall()


def start_clean(pytest_cache):
    """Flush what an earlier session left, then recreate and remember the migrations' rows."""
    cache.clear()
    executor, plan = _plan()
    key = f"iwp/migration-rows/{plan_and_digest()[1]}"
    # Without pytest's cache (-p no:cacheprovider) the rows are replayed each session.
    rows = pytest_cache.get(key, None) if pytest_cache is not None else None
    if rows is None or _leftovers(rows):
        call_command("flush", verbosity=0, interactive=False)
    if rows is None:
        before = _all_rows()
        _replay_data_migrations(executor, plan)
        created = [obj for key, obj in _all_rows().items() if key not in before]
        rows = serializers.serialize("json", created)
        if pytest_cache is not None:
            pytest_cache.set(key, rows)
    _rows[:] = [rows]
    restore()


def restore():
    """Put the migrations' rows back (a transactional test's flush deleted them)."""
    models = set()
    with transaction.atomic(), connection.cursor() as cursor:
        for row in serializers.deserialize("json", _rows[0]):
            row.save()
            models.add(type(row.object))
        # Rows saved with their ids leave the id sequences behind (what loaddata does too).
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)
