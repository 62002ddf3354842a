"""`aiff api`: serve the app with uvicorn (migrations are a separate step: `aiff db upgrade`).

`AIFF_API_WORKERS` (default 1) runs that many uvicorn worker processes on the port. Each process has
its own pool, caches and live hub; rate limits and the live feed are shared through Redis.
"""

from __future__ import annotations

import logging

import uvicorn

from aiff import logs
from aiff.api.ws_protocol import WebSocketProtocol
from aiff.settings import get_settings

SERVER_OPTIONS: dict[str, object] = {
    "proxy_headers": True,
    "access_log": False,  # the gateway middleware logs each request with its correlation id
    # Live messages are small JSON documents on a LAN: compressing each one for each of N clients cost the
    # API ~20% of its CPU under the live benchmark, for a few hundred bytes saved.
    "ws_per_message_deflate": False,
    # SIGTERM lets in-flight requests finish, but never waits longer than this for them.
    "timeout_graceful_shutdown": 10,
    # uvicorn's own sans-I/O protocol left a refused handshake (a request line over 8 KiB) unanswered.
    "ws": WebSocketProtocol,
}


def cmd_api(host: str | None = None, port: int | None = None, log_format: str = "text", verbose: bool = False) -> int:
    """Serve until SIGTERM; `log_format` (json/text, resolved by `aiff.logs`) also configures uvicorn's workers."""
    settings = get_settings()
    host = host or settings.api_host
    port = port or settings.api_port
    uvicorn.run(
        "aiff.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=settings.api_workers if settings.api_workers > 1 else None,
        # Each worker process applies this config, so its uvicorn and aiff lines share our formatter and filter.
        log_config=logs.dict_config(log_format, logging.DEBUG if verbose else logging.INFO),  # type: ignore[arg-type]
        **SERVER_OPTIONS,  # type: ignore[arg-type]
    )
    return 0
