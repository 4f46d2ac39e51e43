"""Keep a logged-in user's Concurrent seat alive, and end a session whose seat was taken back.

At most once a minute per session (not on every request), the session's leases get their
``last_seen_at`` touched. If a lease is no longer held (released idle, superseded or by an
administrator), the session is logged out and sent to the login page with the reason.
"""

import time
from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.utils import timezone

from .services.leases import lease_touch
from .services.leases.release import SIGNED_OUT_KEY
from .services.stations import station_touch
from .views import LEASES_SESSION_KEY, STATION_SESSION_KEY

TOUCH_SESSION_KEY = "iwp_lease_touched"


def touch_interval_seconds() -> int:
    """Once a minute, or more often when the idle limit is very short."""
    return max(5, min(60, settings.IWP_CONCURRENT_IDLE_MINUTES * 60 // 4))


class SeatLeaseMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        notice = session.pop(SIGNED_OUT_KEY, None) if session is not None else None
        if notice is not None:
            at = timezone.localtime(datetime.fromisoformat(notice["at"]))
            messages.info(
                request,
                f"You were signed out because you signed in on another device at {at:%H:%M}.",
            )
        lease_ids = session.get(LEASES_SESSION_KEY) if session is not None else None
        at_station = session is not None and session.get(STATION_SESSION_KEY) is not None
        if (lease_ids or at_station) and request.user.is_authenticated:
            now = time.time()
            if now - session.get(TOUCH_SESSION_KEY, 0) >= touch_interval_seconds():
                lost = lease_ids and lease_touch(lease_ids=lease_ids) < len(lease_ids)
                lost_station = at_station and not station_touch(session_key=session.session_key)
                if lost or lost_station:
                    logout(request)
                    messages.warning(
                        request,
                        "Your session ended: your seat was released "
                        "(idle, signed in elsewhere, or by an administrator). "
                        "Log in again to take a seat."
                        if lost
                        else "Your session ended: your station was taken over "
                        "(you were idle, or signed in there again). Log in again.",
                    )
                    return redirect(settings.LOGIN_URL)
                session[TOUCH_SESSION_KEY] = now
        return self.get_response(request)
