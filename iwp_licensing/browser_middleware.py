"""The middleware of the pages people use, which the seat API's requests pass by.

A seat API request (/api/v1/, not its documentation page) carries a key, no cookie: it has no
user, message, nonce or seat of a browser session to keep. Each class here is the named
middleware for every other request and does nothing for the API's, hooks included (a
middleware's ``process_view`` is called by Django's handler, not by the middleware itself).
Sessions and CSRF stay as they are: they cost an API request nothing measurable (no session is
read without a user; the API's views are exempt from CSRF), and ``check --deploy`` looks for
them by their own names. What an API answer gets: SecurityMiddleware's headers (HSTS, nosniff,
referrer policy), the NUL guard, X-Frame-Options, the audit's request context, and a
Content-Security-Policy that allows nothing (below). Measured: docs/benchmarks.md, seat API.
"""

from __future__ import annotations

import csp.middleware
import django_permissions_policy
from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages

import seats.middleware

API_PREFIX = "/api/v1/"
API_PAGES = ("/api/v1/docs",)  # the interactive documentation is a page, with its scripts
# A JSON answer loads nothing and is framed nowhere.
API_CSP = "default-src 'none'; frame-ancestors 'none'"


def is_api_request(request) -> bool:
    path = request.path_info
    return path.startswith(API_PREFIX) and not path.startswith(API_PAGES)


def browser_only(middleware: type) -> type:
    """``middleware`` for every request but the seat API's, which pass it by."""

    class BrowserOnly(middleware):
        def __call__(self, request):
            if is_api_request(request):
                return self.get_response(request)
            return super().__call__(request)

        if hasattr(middleware, "process_view"):

            def process_view(self, request, view_func, view_args, view_kwargs):
                if is_api_request(request):
                    return None
                return super().process_view(request, view_func, view_args, view_kwargs)

        if hasattr(middleware, "process_exception"):

            def process_exception(self, request, exception):
                if is_api_request(request):
                    return None
                return super().process_exception(request, exception)

        if hasattr(middleware, "process_template_response"):

            def process_template_response(self, request, response):
                if is_api_request(request):
                    return response
                return super().process_template_response(request, response)

    BrowserOnly.__name__ = BrowserOnly.__qualname__ = middleware.__name__
    BrowserOnly.__module__ = __name__
    BrowserOnly.__doc__ = f"{middleware.__module__}.{middleware.__name__}, not for the seat API."
    return BrowserOnly


class CSPMiddleware(browser_only(csp.middleware.CSPMiddleware)):
    """django-csp's policy with a nonce for pages; for the seat API's JSON, one fixed header."""

    def __call__(self, request):
        if is_api_request(request):
            response = self.get_response(request)
            response.headers.setdefault("Content-Security-Policy", API_CSP)
            return response
        return super().__call__(request)


PermissionsPolicyMiddleware = browser_only(django_permissions_policy.PermissionsPolicyMiddleware)
AuthenticationMiddleware = browser_only(auth.AuthenticationMiddleware)
MessageMiddleware = browser_only(messages.MessageMiddleware)
SeatLeaseMiddleware = browser_only(seats.middleware.SeatLeaseMiddleware)
