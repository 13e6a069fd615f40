"""Where the live page's alerts come from: Redis pub/sub, or a queue in memory.

Two implementations of one seam, chosen like the store by URL:

- :class:`RedisFeed`: SUBSCRIBE to ``firestorm:alerts`` with ``redis.asyncio``
  (one connection per open live page; a press office has a handful).
- :class:`QueueFeed`: in-process fan-out, for tests and ``memory://``.

Both have ``listen(tick)``: an async iterator that yields ``None`` once the
subscription is in place (so the page can say "live" truthfully, and a test
knows it may publish), then each message as text, or ``None`` after ``tick``
seconds of silence so the caller can send a keep-alive.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

__all__ = ["QueueFeed", "RedisFeed", "open_feed"]


class RedisFeed:
    """Alert events as PUBLISHed by the store on ``channel``."""

    def __init__(self, url: str, channel: str = "firestorm:alerts", **options: object) -> None:
        self.url, self.channel, self.options = url, channel, options

    def __repr__(self) -> str:
        scheme, _, rest = self.url.partition("://")
        where = f"{scheme}://{rest.rsplit('@', 1)[-1]}"  # never show a password
        return f"RedisFeed({where!r}, channel={self.channel!r})"

    async def listen(self, tick: float = 15.0) -> AsyncIterator[str | None]:
        import redis.asyncio

        client = redis.asyncio.Redis.from_url(self.url, socket_connect_timeout=5,
                                              **self.options)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.channel)
            yield None
            while True:
                message = await pubsub.get_message(timeout=tick)
                if message is None:
                    yield None
                elif message.get("type") == "message":
                    data = message["data"]
                    yield data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        finally:
            await pubsub.aclose()
            await client.aclose()


class QueueFeed:
    """Fan-out in memory: :meth:`publish` reaches every current listener."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[str]] = set()

    def publish(self, text: str) -> int:
        """Hand ``text`` to every listener; returns how many there were (like PUBLISH)."""
        for queue in self._queues:
            queue.put_nowait(text)
        return len(self._queues)

    @property
    def listeners(self) -> int:
        return len(self._queues)

    async def listen(self, tick: float = 15.0) -> AsyncIterator[str | None]:
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._queues.add(queue)
        try:
            yield None
            while True:
                try:
                    yield await asyncio.wait_for(queue.get(), timeout=tick)
                except TimeoutError:
                    yield None
        finally:
            self._queues.discard(queue)


def open_feed(url: str, channel: str = "firestorm:alerts",
              **options: object) -> RedisFeed | QueueFeed:
    """The feed matching a store URL (``memory://`` has nobody else publishing).

    >>> open_feed("memory://").__class__.__name__, open_feed("redis://h:6379/0")
    ('QueueFeed', RedisFeed('redis://h:6379/0', channel='firestorm:alerts'))
    """
    if url.startswith("memory://"):
        return QueueFeed()
    return RedisFeed(url, channel, **options)
