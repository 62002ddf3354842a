"""Conversation state (last intent, slots, listed ids, a pending action) in Redis, keyed by user and conversation id,
with a TTL; an in-process dict stands in when Redis is not configured (tests, the benchmark)."""

from __future__ import annotations

import json
import time
from typing import Any

TTL_S = 3600


class ConversationStore:
    def __init__(self, redis=None, ttl_s: int = TTL_S) -> None:
        self.redis, self.ttl_s = redis, ttl_s
        self._local: dict[str, tuple[float, str]] = {}

    @staticmethod
    def key(user: str | int | None, conversation_id: str) -> str:
        return f"aiff:assistant:{user or 'anon'}:{conversation_id}"

    async def load(self, user, conversation_id: str) -> dict[str, Any]:
        k = self.key(user, conversation_id)
        if self.redis is not None:
            raw = await self.redis.get(k)
        else:
            exp, raw = self._local.get(k, (0.0, None))
            raw = raw if exp > time.time() else None
        return json.loads(raw) if raw else {}

    async def save(self, user, conversation_id: str, state: dict[str, Any]) -> None:
        k, raw = self.key(user, conversation_id), json.dumps(state, default=str)
        if self.redis is not None:
            await self.redis.set(k, raw, ex=self.ttl_s)
        else:
            self._local[k] = (time.time() + self.ttl_s, raw)
