"""Requests per seat API key: IWP_API_RATE_LIMIT (``100/s``, ``600/m``...) in a fixed window.

The count is one atomic step in Redis (the limits library's INCR-and-EXPIRE script, one round
trip), shared by every gunicorn worker: of concurrent requests, exactly the limit get through.
django-ninja's own throttles keep each request's time in a cache entry that they read, change
and write back without a lock, so concurrent requests overwrite each other's and more than the
limit get through. Without REDIS_URL the count is kept in each process's memory.

The window starts with a key's first request and lasts the period; a refused request is told in
``Retry-After`` when the window ends.
"""

from __future__ import annotations

import math
import threading
import time

from django.conf import settings
from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from ninja.throttling import SimpleRateThrottle


def _storage_uri() -> str:
    return settings.REDIS_URL or "memory://"


class KeyRateThrottle(SimpleRateThrottle):
    """``num_requests`` per ``duration`` seconds for each API key (its prefix names it)."""

    def __init__(self, rate: str, storage_uri: str | None = None):
        super().__init__(rate)
        storage = storage_from_string(storage_uri or _storage_uri(), key_prefix="iwp-api-rate")
        self.limiter = FixedWindowRateLimiter(storage)
        self._refused = threading.local()  # one instance serves every request of a process

    def _item(self) -> RateLimitItemPerSecond:
        return RateLimitItemPerSecond(self.num_requests, self.duration)

    def allow_request(self, request) -> bool:
        item = self._item()
        prefix = request.auth.prefix
        if self.limiter.hit(item, prefix):
            self._refused.wait = None
            return True
        reset = self.limiter.get_window_stats(item, prefix).reset_time
        self._refused.wait = max(math.ceil(reset - time.time()), 1)
        return False

    def wait(self) -> float | None:
        return getattr(self._refused, "wait", None)
