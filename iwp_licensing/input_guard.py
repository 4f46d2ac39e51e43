"""Refuse input no page can use with a 400, before it reaches PostgreSQL or a date.

PostgreSQL stores no NUL in text: a NUL in a search, a filter, a form field or a cookie that
reaches a query is a database error, a 500. No address, form or cookie of this site ever holds
one, so a request carrying a NUL is refused whole, for the admin and the portal alike.

A number too large for a date or a machine integer (``?day__year=99999999999999999999`` on an
admin change list) raises OverflowError in Django's own code: that is the input's fault too.
"""

import logging

from django.http import HttpResponseBadRequest

logger = logging.getLogger("iwp_licensing.input")

NUL = "\x00"
NUL_REFUSAL = "Bad request: the input contains a NUL character"
OVERFLOW_REFUSAL = "Bad request: a number in the input is too large"


def _pairs(querydict):
    return ((key, value) for key, values in querydict.lists() for value in values)


def _has_nul(pairs) -> bool:
    return any(NUL in key or NUL in value for key, value in pairs)


def carries_nul(request) -> bool:
    """A NUL in the path, a query parameter, a cookie or a posted form field, names included."""
    return (
        NUL in request.path
        or _has_nul(_pairs(request.GET))
        or _has_nul(request.COOKIES.items())
        or (request.method == "POST" and _has_nul(_pairs(request.POST)))
    )


def _bad_request(text: str) -> HttpResponseBadRequest:
    return HttpResponseBadRequest(text, content_type="text/plain; charset=utf-8")


class InputGuardMiddleware:
    """Listed right after SecurityMiddleware: before the session is read (its key comes from a
    cookie) and before any view reads a parameter."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if carries_nul(request):
            return _bad_request(NUL_REFUSAL)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OverflowError):
            logger.warning("Refused %s: %s", request.path, exception)
            return _bad_request(OVERFLOW_REFUSAL)
        return None
