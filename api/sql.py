"""The statement of the seat API's hot path: the key a request carries, found by its prefix.

Every request looks its key up before anything else, and a heartbeat is otherwise one UPDATE: the
ORM compiling this join cost several times what PostgreSQL takes to run it (bench/api.py). The
statement is compiled once per process from the ORM's own query (the model's fields, the
``active()`` filter) and runs prepared through seats/sql.py's cursor, as the seat statements do.
"""

from __future__ import annotations

from functools import cache

from django.db.models.expressions import RawSQL

from organizations.models import Server
from seats import sql as seats_sql

from .models import ApiKey


def _attnames(model) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


@cache
def key_by_prefix_sql() -> str:
    """The active key of prefix ``%(prefix)s`` and its server: the key's columns, then the
    server's, in the order of their models' fields."""
    query = (
        ApiKey.objects.active()
        .filter(prefix=RawSQL("%(prefix)s", ()))
        .order_by()
        .values_list(*_attnames(ApiKey), *(f"server__{name}" for name in _attnames(Server)))
    )
    sql, params = query.query.sql_with_params()
    assert not params, params
    return sql


def active_key(prefix: str) -> ApiKey | None:
    """The active key of ``prefix``, its server loaded; None when there is none."""
    rows = seats_sql.execute(key_by_prefix_sql(), {"prefix": prefix})
    if not rows:
        return None
    key_fields, server_fields = _attnames(ApiKey), _attnames(Server)
    row = rows[0]
    key = ApiKey.from_db("default", key_fields, row[: len(key_fields)])
    key.server = Server.from_db("default", server_fields, row[len(key_fields) :])
    return key
