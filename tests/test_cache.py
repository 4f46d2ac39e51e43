"""The Redis cache (iwp_licensing/cache.py): Django's backend, with one redis-py client per pool
instead of one per call."""

import pytest
from django.conf import settings

from iwp_licensing.cache import RedisCache

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (REDIS_URL)")


def test_every_call_shares_one_client_and_the_cache_still_works():
    cache = RedisCache(settings.REDIS_URL, {"KEY_PREFIX": "test-cache"})
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client() is client
    cache.set("history", [1.5, 2.5], 10)
    assert cache.get("history") == [1.5, 2.5]
    cache.set("count", 1, 10)
    assert cache.incr("count") == 2
    cache.delete_many(["history", "count"])
    assert cache.get("history") is None and cache.get("count") is None
