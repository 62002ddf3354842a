"""The websocket send watchdog: a peer that stopped reading is closed, a healthy one is left alone."""

from __future__ import annotations

import asyncio

import pytest

from aiff.api import ws
from aiff.live.hub import Client, Filter


class _Socket:
    """A websocket whose sends block until `unblock` is set (a peer that stopped reading)."""

    def __init__(self) -> None:
        self.unblock = asyncio.Event()
        self.closed_with: int | None = None
        self.sent: list[str] = []

    async def send_text(self, text: str) -> None:
        await self.unblock.wait()
        self.sent.append(text)

    async def close(self, code: int = 1000) -> None:
        self.closed_with = code


async def test_a_stuck_send_closes_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ws, "SEND_TIMEOUT_S", 0.3)
    socket, client = _Socket(), Client(Filter())
    writer = asyncio.create_task(ws._send(socket, client, "hello"))  # type: ignore[arg-type]
    await asyncio.wait_for(ws._watch_sends(socket, client, writer), 5)  # type: ignore[arg-type]
    assert writer.cancelled()
    assert socket.closed_with == 1011


async def test_sends_that_complete_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ws, "SEND_TIMEOUT_S", 0.3)
    socket, client = _Socket(), Client(Filter())
    socket.unblock.set()

    async def steady_writer() -> None:
        for n in range(8):
            await ws._send(socket, client, f"m{n}")  # type: ignore[arg-type]
            await asyncio.sleep(0.1)

    writer = asyncio.create_task(steady_writer())
    await asyncio.wait_for(ws._watch_sends(socket, client, writer), 5)  # type: ignore[arg-type]
    assert writer.done() and not writer.cancelled()
    assert socket.closed_with is None and len(socket.sent) == 8
    assert client.sending_since == 0.0
