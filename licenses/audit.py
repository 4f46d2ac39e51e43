"""Who a change was made for, as the audit trail records it.

The trail itself is written by PostgreSQL: django-pghistory installs triggers on every licensed
table (``@pghistory.track`` on the models), so no write, not even a hand-written statement, can
skip it. Each change carries its context: the acting user, and in a request also its URL and the
client's address (iwp_licensing.middleware). Services name the user they act for with
``acting_as``; hand-written statements (seats/sql.py) carry the same context in themselves.
"""

from __future__ import annotations

import json
from contextlib import contextmanager

import pghistory
from pghistory import config as pghistory_config


@contextmanager
def acting_as(user):
    """Changes made inside this block are recorded as made by ``user``.

    Without a user (a command, a Celery task) the surrounding context, if any, is kept: in a
    request that is the logged-in user. The context ends with the outermost block, so a later
    task in the same thread is never attributed to this user.
    """
    metadata = {"user": user.pk} if getattr(user, "is_authenticated", False) else {}
    with pghistory.context(**metadata) as context:
        yield context


def context_params(context) -> dict:
    """The audit context as parameters of a hand-written statement (seats/sql.py sets them with
    ``set_config``, as pghistory does before each ORM statement)."""
    return {
        "pgh_context_id": str(context.id),
        "pgh_context_metadata": json.dumps(context.metadata, cls=pghistory_config.json_encoder()),
    }
