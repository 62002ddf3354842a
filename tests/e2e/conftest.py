"""End-to-end fixtures: the projector and the API (a real uvicorn server) running in-process on the real stack."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import queue
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn

from aiff.api.app import create_app
from aiff.api.security import create_access_token, hash_password
from aiff.api.serve import SERVER_OPTIONS
from aiff.bootstrap import Resources, open_resources
from aiff.consumers import projector
from aiff.events.topics import leaders_elected
from aiff.settings import Settings
from aiff.tools.users import create_user
from tests.helpers import isolated_settings, unique_name

T = TypeVar("T")
PASSWORD = "correct-horse-battery"
ROLES = ("admin", "dispatcher", "analyst", "field", "user")


@functools.lru_cache(maxsize=1)
def _password_hash() -> str:
    return hash_password(PASSWORD)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Harness:
    """A running API on a free port, its projector, a client, and helpers to make users."""

    url: str
    settings: Settings
    resources: Resources
    client: httpx.AsyncClient
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    team_id: int | None = None
    app: Any = None
    """The FastAPI app being served (for tests that reach into its resources)."""

    async def login(self, username: str, password: str = PASSWORD) -> dict[str, str]:
        r = await self.client.post("/auth/login", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    async def make_user(self, role: str, *, team_id: int | None = None, username: str | None = None) -> dict[str, str]:
        """A user made by `aiff users create`'s code path, with a token minted as login does (argon2 is slow)."""
        username = username or unique_name(role)
        async with self.resources.pool.acquire() as conn:
            user_id = await create_user(
                conn, username=username, password=PASSWORD, role=role, team_id=team_id, password_hash=_password_hash()
            )
        token, _ = create_access_token(self.settings, user_id=user_id, username=username, role=role, team_id=team_id)
        return {"Authorization": f"Bearer {token}"}

    async def create_team(self, **overrides: Any) -> dict[str, Any]:
        body = {"name": unique_name("Pasukan "), "zone": "Selangor", "skills": ["fiber"], "capacity": 3,
                "latitude": 3.07, "longitude": 101.52, **overrides}  # fmt: skip
        r = await self.client.post("/auth/teams", json=body, headers=self.headers["admin"])
        assert r.status_code == 201, r.text
        return r.json()

    async def create_ticket(self, **overrides: Any) -> dict[str, Any]:
        body = {"title": "Fibre cut", "priority": "high", "zone": "Selangor", "category": "fiber", **overrides}
        r = await self.client.post("/tickets", json=body, headers=self.headers["dispatcher"])
        assert r.status_code == 201, r.text
        return r.json()


async def _leaders_elected(resources: Resources, timeout: float = 30.0) -> None:
    """Wait until every partition of the fresh topics answers offset lookups (else the projector backs off for seconds)."""
    settings = resources.settings
    await leaders_elected(settings.kafka_bootstrap_servers, resources.topics.domain, settings.topic_partitions, timeout)


@contextlib.asynccontextmanager
async def running_api(settings: Settings, *, rate_limit_window_s: float | None = None, with_users: bool = True) -> AsyncIterator[Harness]:
    """Projector + uvicorn-served API on `settings`; admin/dispatcher/analyst/field/user logged in."""
    async with open_resources(settings, with_redis=True) as resources:
        await _leaders_elected(resources)
        stop = asyncio.Event()
        consumer = projector.build(resources)
        projector_task = asyncio.create_task(consumer.run(stop), name="projector")
        port = _free_port()
        app = create_app(settings, rate_limit_window_s=rate_limit_window_s)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", **SERVER_OPTIONS))
        server_task = asyncio.create_task(server.serve(), name="uvicorn")
        try:
            while not server.started:
                if server_task.done():
                    server_task.result()
                    raise RuntimeError("uvicorn exited before starting")
                await asyncio.sleep(0.02)
            await asyncio.wait_for(consumer.ready.wait(), 30)
            url = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                harness = Harness(url, settings, resources, client, app=app)
                if with_users:
                    harness.headers["admin"] = await harness.make_user("admin")
                    harness.headers["dispatcher"] = await harness.make_user("dispatcher")
                    harness.headers["analyst"] = await harness.make_user("analyst")
                    harness.headers["user"] = await harness.make_user("user")
                    team = await harness.create_team()
                    harness.team_id = team["id"]
                    harness.headers["field"] = await harness.make_user("field", team_id=team["id"])
                yield harness
        finally:
            server.should_exit = True
            stop.set()
            await asyncio.gather(server_task, projector_task, return_exceptions=True)


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Harness]:
    async with running_api(settings) as harness:
        yield harness


@pytest.fixture(scope="module")
async def shared_api(stack_settings: Settings) -> AsyncIterator[Harness]:
    """One API for a module's read-mostly tests (each module still gets its own schema and topics)."""
    async with isolated_settings(stack_settings) as settings:
        async with running_api(settings) as harness:
            yield harness


@contextlib.contextmanager
def api_in_thread(
    settings: Settings, prepare: Callable[[Harness], Awaitable[T]], *, timeout: float = 90.0
) -> Iterator[T]:
    """A running API (with its projector) in its own thread and event loop, for tests that drive it synchronously
    (hypothesis, schemathesis); yields what `prepare` returns once the API is up, stops it after the block."""
    ready: queue.Queue = queue.Queue()
    done = threading.Event()

    async def main() -> None:
        try:
            async with isolated_settings(settings) as isolated:
                async with running_api(isolated) as harness:
                    ready.put(await prepare(harness))
                    await asyncio.to_thread(done.wait)
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            ready.put(exc)
            raise

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    item = ready.get(timeout=timeout)
    if isinstance(item, BaseException):
        raise item
    try:
        yield item
    finally:
        done.set()
        thread.join(timeout=30)
