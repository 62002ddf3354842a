"""`aiff api`: serve the app with uvicorn (migrations are a separate step: `aiff db upgrade`).

`AIFF_API_WORKERS` (default 1) runs that many uvicorn worker processes on the port. Each process has
its own pool, caches and live hub; rate limits are shared in Redis.
"""

from __future__ import annotations

import argparse
import logging
import os

import uvicorn

from aiff.settings import get_settings

log = logging.getLogger(__name__)


def api_workers() -> int:
    """`AIFF_API_WORKERS`, at least 1 (a malformed value falls back to 1)."""
    raw = os.environ.get("AIFF_API_WORKERS", "").strip()
    if not raw:
        return 1
    try:
        return max(1, int(raw))
    except ValueError:
        log.warning("AIFF_API_WORKERS=%r is not a number; using 1 worker", raw)
        return 1


def cmd_api(args: argparse.Namespace) -> int:
    settings = get_settings()
    host = getattr(args, "host", None) or settings.api_host
    port = getattr(args, "port", None) or settings.api_port
    workers = api_workers()
    uvicorn.run(
        "aiff.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        proxy_headers=True,
        access_log=False,
        workers=workers if workers > 1 else None,
    )
    return 0
