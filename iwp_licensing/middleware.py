"""Request middleware of the project."""

from auditlog.context import auditlog_value
from auditlog.middleware import AuditlogMiddleware


class AuditActorMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware (the request's user is the actor of what it changes), scoped.

    auditlog leaves its context variable set after the response, so in a thread that serves
    more than one request, or runs tasks after one, a later change would name this request's
    user. The token restores what was there before the request.
    """

    def __call__(self, request):
        token = auditlog_value.set({})
        try:
            return super().__call__(request)
        finally:
            auditlog_value.reset(token)
