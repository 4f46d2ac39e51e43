"""Django's Redis cache backend, keeping one redis-py client per connection pool.

Django's backend builds a new ``redis.Redis`` for every cache call, and redis-py fills about 170
response callbacks into each one (redis-py issue #3624). The seat API's rate limiter reads and
writes the cache on every request, so on a heartbeat the two clients built cost more CPU than
the heartbeat's UPDATE (bench/api.py, docs/benchmarks.md). A client holds no connection of its
own (its pool does) and may be shared by threads, so one per pool serves every call.
"""

from django.core.cache.backends import redis


class RedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
