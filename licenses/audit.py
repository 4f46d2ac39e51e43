"""Attribute audit-trail records (django-auditlog) to the user a service acts for."""

from contextlib import contextmanager

from auditlog.context import auditlog_value, set_actor


@contextmanager
def acting_as(user):
    """Records written inside this block name ``user`` as their actor.

    Without a user (a command, a Celery task) the surrounding actor, if any, is kept; in a
    request that is the logged-in user, set by AuditlogMiddleware. auditlog's own set_actor
    leaves its context variable set when it exits, so a later task or request in the same
    thread would be attributed to this user; the token put down here restores what was there.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        yield
        return
    try:
        outer = auditlog_value.get()
    except LookupError:
        outer = {}
    token = auditlog_value.set({})
    try:
        # The request's address stays on the records (set_actor alone would drop it).
        with set_actor(
            user, remote_addr=outer.get("remote_addr"), remote_port=outer.get("remote_port")
        ):
            yield
    finally:
        auditlog_value.reset(token)
