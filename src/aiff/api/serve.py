"""`aiff api`: serve the app with uvicorn (migrations are a separate step: `aiff db upgrade`)."""

from __future__ import annotations

import argparse

import uvicorn

from aiff.settings import get_settings


def cmd_api(args: argparse.Namespace) -> int:
    settings = get_settings()
    host = getattr(args, "host", None) or settings.api_host
    port = getattr(args, "port", None) or settings.api_port
    uvicorn.run("aiff.api.app:create_app", factory=True, host=host, port=port, proxy_headers=True, access_log=False)
    return 0
