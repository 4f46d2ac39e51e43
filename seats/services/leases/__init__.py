"""Concurrent seats: taken at login, released at logout, when idle, when superseded or
by an administrator.

A login takes one seat per server the user has memberships on, through one conditional UPDATE of
the server's pool row (seats/sql.py): PostgreSQL decides who gets the last seat. The partial
unique constraint ``seatlease_one_active_per_user_and_server`` keeps a user at one seat per
server; a second login supersedes the first (the earlier session is signed out) unless
``IWP_ALLOW_PARALLEL_SESSIONS`` lets both sessions share the seat.

- ``acquire``: login, and the refusals it records.
- ``release``: logout, idle and missed-heartbeat sweep, administrator release; session touch,
  a seat API client's heartbeat.
- ``assigned``: an Assigned user's login check (their seat or their station's).
"""

from .acquire import denial_record, lease_acquire, lease_attach_session
from .assigned import NoSeatAssigned, assigned_seat_check, station_for_login
from .release import (
    lease_heartbeat,
    lease_release,
    lease_release_idle,
    lease_touch,
    sessions_end,
)

__all__ = [
    "NoSeatAssigned",
    "assigned_seat_check",
    "denial_record",
    "lease_acquire",
    "lease_attach_session",
    "lease_heartbeat",
    "lease_release",
    "lease_release_idle",
    "lease_touch",
    "sessions_end",
    "station_for_login",
]
