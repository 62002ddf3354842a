"""Fixed-window rate limits in Redis, shared by every API instance.

One key per (caller, endpoint template, window): the first hit creates it with the window as expiry,
every hit increments it; SET NX PX + INCR + PTTL run atomically in one small Lua script (EVALSHA, one
round trip, cheaper client-side than a MULTI/EXEC pipeline of three commands).
Redis being unreachable must not take the API down: the limiter then lets requests through (logged).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

_HIT_LUA = """
redis.call('SET', KEYS[1], 0, 'PX', ARGV[1], 'NX')
local count = redis.call('INCR', KEYS[1])
return {count, redis.call('PTTL', KEYS[1])}
"""


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    retry_after_s: int


class RateLimiter:
    """`limit` requests per `window_s` seconds per key, counted in Redis."""

    def __init__(self, client: aioredis.Redis, *, limit: int, window_s: float = 3600.0, namespace: str = "aiff") -> None:
        self._redis = client
        self.limit = limit
        self.window_ms = max(1, int(window_s * 1000))
        self._namespace = namespace
        self._script = client.register_script(_HIT_LUA)

    async def hit(self, caller: str, endpoint: str) -> Verdict:
        """Count one request of `caller` on `endpoint`; say whether it is within the limit."""
        key = f"rl:{self._namespace}:{caller}:{endpoint}"
        try:
            count, ttl_ms = await self._script(keys=[key], args=[self.window_ms])
        except (RedisError, OSError) as exc:
            log.warning("rate limiter unavailable, letting request through: %s", exc)
            return Verdict(True, self.limit, self.limit, 0)
        count = int(count)
        ttl_ms = int(ttl_ms)
        if ttl_ms <= 0:
            ttl_ms = self.window_ms
        return Verdict(count <= self.limit, self.limit, max(0, self.limit - count), max(1, math.ceil(ttl_ms / 1000)))
