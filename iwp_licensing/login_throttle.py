"""Login throttling (django-axes, configured in settings): whose address a login comes from, and
the page a locked-out login gets."""

import ipaddress

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.conf import settings
from django.db.models import Max
from django.shortcuts import render
from django.utils import timezone


def client_address(request) -> str | None:
    """The connection's address; behind IWP_PROXY_COUNT proxies that each append the address they
    saw to X-Forwarded-For, the one the outermost of them saw (what a client sends itself stays to
    the left of it)."""
    address = request.META.get("REMOTE_ADDR")
    proxies = settings.IWP_PROXY_COUNT
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(forwarded) >= proxies:
            try:
                address = str(ipaddress.ip_address(forwarded[-proxies]))
            except ValueError:
                pass  # not an address: a proxy set up differently than told; keep the connection's
    return address


def lockout_response(request, original_response, credentials):
    """429 and the time the lock ends, on the login page that was refused (portal or admin)."""
    attempts = AxesProxyHandler.get_implementation().get_user_attempts(request, credentials)
    last_failure = max(
        (t for qs in attempts if (t := qs.aggregate(last=Max("attempt_time"))["last"])),
        default=timezone.now(),
    )
    return render(
        request,
        "registration/locked_out.html",
        {"unlocks_at": last_failure + get_cool_off(request), "login_url": request.path},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )


def attempted_username(request, credentials) -> str | None:
    """The username a login tried, as axes records it, cut to what a username can be (axes keeps
    it in a column of 255 characters; a longer one would make the refusal an error)."""
    username = (credentials or {}).get("username") or request.POST.get("username")
    return username[:150] if username else username
