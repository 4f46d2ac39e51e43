"""Attribute audit-trail records (django-auditlog) to the user a service acts for."""

from contextlib import nullcontext

from auditlog.context import set_actor


def acting_as(user):
    """Context manager: records written inside it name ``user`` as their actor.

    Without a user (a command, a Celery task) the surrounding actor, if any, is kept; in a
    request that is the logged-in user, set by AuditlogMiddleware.
    """
    return set_actor(user) if user is not None and user.is_authenticated else nullcontext()
