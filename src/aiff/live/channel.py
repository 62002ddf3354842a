"""Redis layout of the live feed, and the one place that writes it.

Keys (under the topic prefix, so isolated test environments stay apart):
- `{prefix}:live`         pub/sub channel carrying each message as JSON text;
- `{prefix}:live:stream`  a stream of the same messages, entry id `<seq>-0`, trimmed to ~`maxlen` entries,
                          so a reconnecting client can resume from its last seq without gaps;
- `{prefix}:live:seq`     the last seq handed out;
- `{prefix}:live:positions:{consumer}`  a hash `topic:partition` -> next Kafka offset of the live consumer.

A Lua script allocates the seq, appends to the stream, publishes and records the consumer's Kafka positions
in one atomic step, so seqs are dense and ordered in both the stream and the channel even with several live
consumer instances, and a message is on the feed exactly when the positions after it are stored: the live
feed's hot path touches Redis only (one round trip per batch), never Postgres.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import redis.asyncio as aioredis

DEFAULT_MAXLEN = 10_000

_PUBLISH_LUA = """
local seq = redis.call('INCR', KEYS[1])
local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if top[1] then
  local last = tonumber(string.match(top[1][1], '^(%d+)'))
  if last and seq <= last then
    seq = last + 1
    redis.call('SET', KEYS[1], seq)
  end
end
local msg = '{"type":"events","seq":' .. seq .. ',' .. ARGV[1]
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], seq .. '-0', 'm', msg)
redis.call('PUBLISH', KEYS[3], msg)
if #ARGV > 2 then
  redis.call('HSET', KEYS[4], unpack(ARGV, 3))
end
return seq
"""

Positions = dict[tuple[str, int], int]
"""Next Kafka offset to read per (topic, partition)."""


def _position_fields(positions: Positions) -> dict[str, int]:
    """Hash fields `topic:partition` -> next offset (parsed back by `LivePublisher.load_positions`)."""
    return {f"{topic}:{partition}": offset for (topic, partition), offset in positions.items()}


def _position_args(positions: Positions | None) -> list[str | int]:
    return [item for pair in _position_fields(positions or {}).items() for item in pair]


@dataclass(frozen=True)
class LiveKeys:
    prefix: str

    @property
    def channel(self) -> str:
        return f"{self.prefix}:live"

    @property
    def stream(self) -> str:
        return f"{self.prefix}:live:stream"

    @property
    def seq(self) -> str:
        return f"{self.prefix}:live:seq"

    def positions(self, consumer: str) -> str:
        return f"{self.prefix}:live:positions:{consumer}"


class LivePublisher:
    """Publishes messages `{"type":"events","seq":N,"events":[...],"kpis_changed":bool,"ts":float}`."""

    def __init__(self, redis: aioredis.Redis, keys: LiveKeys, maxlen: int = DEFAULT_MAXLEN, consumer: str = "live") -> None:
        self._redis = redis
        self.keys = keys
        self._maxlen = maxlen
        self._positions_key = keys.positions(consumer)
        self._script = redis.register_script(_PUBLISH_LUA)

    async def publish(self, body: dict[str, Any], positions: Positions | None = None) -> int:
        """Publish one message (body without type/seq), storing `positions` with it atomically; returns its seq."""
        encoded = orjson.dumps(body).decode()
        assert encoded.startswith("{") and len(encoded) > 2
        keys = [self.keys.seq, self.keys.stream, self.keys.channel, self._positions_key]
        seq = await self._script(keys=keys, args=[encoded[1:], self._maxlen, *_position_args(positions)])
        return int(seq)

    async def store_positions(self, positions: Positions) -> None:
        """Record positions after a batch that produced no message."""
        if positions:
            await self._redis.hset(self._positions_key, mapping=_position_fields(positions))

    async def load_positions(self) -> Positions:
        """The stored positions (empty for a fresh consumer, or after Redis lost its data)."""
        stored = await self._redis.hgetall(self._positions_key)
        out: Positions = {}
        for field, value in stored.items():
            name = field.decode() if isinstance(field, bytes) else field
            topic, _, partition = name.rpartition(":")
            out[(topic, int(partition))] = int(value)
        return out


async def current_seq(redis: aioredis.Redis, keys: LiveKeys) -> int:
    """The last seq published (0 when nothing was)."""
    value = await redis.get(keys.seq)
    return int(value) if value is not None else 0


def seq_of(entry_id: bytes | str) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-", 1)[0])


async def replay(redis: aioredis.Redis, keys: LiveKeys, since: int, upto: int | None = None, limit: int = 2000) -> list[tuple[int, str]] | None:
    """Messages with since < seq (<= upto), oldest first; None when the stream no longer holds seq since+1.

    None means the caller must fall back to a snapshot: the gap was trimmed away, or there are more than
    `limit` messages to replay.
    """
    latest = await current_seq(redis, keys)
    if since < 0 or since > latest:
        return None  # a seq from another feed (Redis was reset): only a snapshot is safe
    end = f"{upto}-0" if upto is not None else "+"
    entries = await redis.xrange(keys.stream, min=f"{since + 1}-0", max=end, count=limit + 1)
    if len(entries) > limit:
        return None
    out = [(seq_of(eid), _text(fields)) for eid, fields in entries]
    if out and out[0][0] != since + 1:
        return None  # trimmed away
    if not out and since < latest and (upto is None or since < upto):
        return None
    return out


def _text(fields: dict[Any, Any]) -> str:
    value = fields.get(b"m", fields.get("m"))
    return value.decode() if isinstance(value, bytes) else str(value)
