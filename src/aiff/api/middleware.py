"""The gateway's concerns as one ASGI middleware: correlation id, logging, metrics, body limit, JWT, rate limit.

Runs for HTTP only (websockets authenticate in their own handler). The route template is resolved once
per request (so metrics and rate-limit keys use `/tickets/{ticket_id}`, not every id), then:

1. `X-Correlation-ID` is taken from the request (or generated) and echoed on the response; handlers
   put it into the events they publish (`correlationid`), and it is bound to the request's log lines
   (`aiff.logs.bind_correlation`), so the access line and any handler's lines carry it.
2. Bodies over `settings.max_body_bytes` answer 413 (by Content-Length, or while streaming).
3. Every route but the public ones needs a valid `Authorization: Bearer` token (401 otherwise); the
   principal is left in `request.state.principal` for the role checks in `deps`.
4. Each caller (user id, or client IP when anonymous) has `rate_limit_per_hour` requests per endpoint
   and window (429 with `Retry-After`).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aiff.api.errors import error_body, unavailable_dependency
from aiff.api.security import InvalidToken, decode_access_token_cached
from aiff.logs import bind_correlation

log = logging.getLogger("aiff.api.access")

REQUESTS = Counter("http_requests_total", "Total HTTP requests", ["method", "endpoint", "status"])
DURATION = Histogram(
    "http_request_duration_seconds",
    "HTTP request duration",
    ["method", "endpoint"],
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ACTIVE = Gauge("active_connections", "HTTP requests in flight")

PUBLIC_PATHS = frozenset(
    {"/health", "/metrics", "/auth/login", "/auth/register", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json", "/", "/field", "/favicon.ico"}
)
PUBLIC_PREFIXES = ("/static/", "/assets/")
UNLIMITED_PATHS = frozenset({"/health", "/metrics"})
_CORRELATION_OK = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
API_PREFIX = "/api"


def _strip_prefix(path: str) -> str:
    if path == API_PREFIX:
        return "/"
    return path[len(API_PREFIX):] if path.startswith(API_PREFIX + "/") else path


def is_public(path: str) -> bool:
    bare = _strip_prefix(path)
    return bare in PUBLIC_PATHS or bare.startswith(PUBLIC_PREFIXES) or path.startswith(PUBLIC_PREFIXES)


class _BodyTooLarge(Exception):
    pass


class GatewayMiddleware:
    """See the module docstring. Reads its collaborators from `app.state` (set in the lifespan)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        supplied = declared = auth_header = None
        for raw_name, raw_value in scope.get("headers", ()):
            name = raw_name.lower()
            if name == b"authorization":
                auth_header = raw_value
            elif name == b"x-correlation-id":
                supplied = raw_value
            elif name == b"content-length":
                declared = raw_value
        if supplied is not None:
            supplied = supplied.decode("latin-1")
            cid = supplied if _CORRELATION_OK.match(supplied) else uuid.uuid4().hex
        else:
            cid = uuid.uuid4().hex
        with bind_correlation(cid):  # every log line of this request carries it
            state = scope.setdefault("state", {})
            state["correlation_id"] = cid
            app = scope.get("app")
            method = scope["method"]
            template = _cached_route_template(app, scope, method)
            endpoint = template or "unmatched"
            status_holder = {"status": 500, "started": False}
            overflow = {"hit": False, "replied": False}
            cid_header = (b"x-correlation-id", cid.encode())

            async def send_wrapper(message: Message) -> None:
                if overflow["hit"]:
                    # The app answered a body cut short (FastAPI turns the read error into a 400): answer 413 instead.
                    if not overflow["replied"]:
                        overflow["replied"] = True
                        overflow["hit"] = False
                        await reply(413, f"request body larger than {limit_bytes} bytes")
                        overflow["hit"] = True
                    return
                if message["type"] == "http.response.start":
                    status_holder["status"] = message["status"]
                    status_holder["started"] = True
                    raw = list(message.get("headers", []))
                    raw.append(cid_header)
                    message = {**message, "headers": raw}
                await send(message)

            async def reply(status: int, message: str, extra: dict[str, str] | None = None, details: Any = None) -> None:
                import json

                body = json.dumps(error_body(status, message, details=details, correlation_id=cid)).encode()
                hdrs = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
                hdrs += [(k.lower().encode(), v.encode()) for k, v in (extra or {}).items()]
                await send_wrapper({"type": "http.response.start", "status": status, "headers": hdrs})
                await send_wrapper({"type": "http.response.body", "body": body})

            settings = getattr(getattr(app, "state", None), "settings", None)
            limit_bytes = settings.max_body_bytes if settings is not None else 1_048_576
            ACTIVE.inc()
            principal = None
            try:
                if declared is not None:
                    declared = declared.decode("latin-1")
                if declared is not None and (not declared.isdigit() or int(declared) > limit_bytes):
                    await reply(413, f"request body larger than {limit_bytes} bytes")
                    return
                if template is not None and not is_public(scope["path"]) and settings is not None:
                    auth = auth_header.decode("latin-1") if auth_header is not None else ""
                    scheme, _, token = auth.partition(" ")
                    if scheme.lower() != "bearer" or not token.strip():
                        await reply(401, "missing bearer token", {"WWW-Authenticate": "Bearer"})
                        return
                    try:
                        principal = decode_access_token_cached(settings, token.strip())
                    except InvalidToken as exc:
                        await reply(401, str(exc), {"WWW-Authenticate": 'Bearer error="invalid_token"'})
                        return
                    state["principal"] = principal
                limiter = getattr(app.state, "rate_limiter", None) if app is not None else None
                bare_template = _strip_prefix(template) if template is not None else None
                if bare_template is not None and limiter is not None and bare_template not in UNLIMITED_PATHS:
                    caller = f"user:{principal.id}" if principal is not None else f"ip:{(scope.get('client') or ('?',))[0]}"
                    verdict = await limiter.hit(caller, bare_template)
                    if not verdict.allowed:
                        await reply(
                            429,
                            f"rate limit of {verdict.limit} requests per window reached for {_strip_prefix(template)}; "
                            f"retry in {verdict.retry_after_s} s",
                            {"Retry-After": str(verdict.retry_after_s), "X-RateLimit-Limit": str(verdict.limit), "X-RateLimit-Remaining": "0"},
                        )
                        return

                received = 0

                async def limited_receive() -> Message:
                    nonlocal received
                    message = await receive()
                    if message["type"] == "http.request":
                        received += len(message.get("body", b""))
                        if received > limit_bytes:
                            overflow["hit"] = True
                            raise _BodyTooLarge
                    return message

                await self.app(scope, limited_receive, send_wrapper)
            except _BodyTooLarge:
                if not status_holder["started"] and not overflow["replied"]:
                    overflow["hit"] = False
                    await reply(413, f"request body larger than {limit_bytes} bytes")
            except Exception as exc:  # noqa: BLE001 - the last line of defence: an outage is a 503, anything else a 500
                dependency = unavailable_dependency(exc)
                if dependency is not None:
                    log.warning("%s unavailable on %s %s (correlation id %s): %s: %s",
                                dependency, method, scope["path"], cid, type(exc).__name__, exc)  # fmt: skip
                    if not status_holder["started"]:
                        retry_after = str(settings.retry_after_s if settings is not None else 5)
                        await reply(503, f"{dependency} unavailable ({type(exc).__name__}); retry shortly", {"Retry-After": retry_after})
                else:
                    log.exception("unhandled error on %s %s (correlation id %s)", method, scope["path"], cid)
                    if not status_holder["started"]:
                        await reply(500, "internal server error")
            finally:
                ACTIVE.dec()
                elapsed = time.perf_counter() - started
                _request_counter(method, endpoint, status_holder["status"]).inc()
                _duration_histogram(method, endpoint).observe(elapsed)
                if log.isEnabledFor(logging.INFO):
                    log.info(
                        "%s %s %s %.1fms user=%s",
                        method, scope["path"], status_holder["status"], elapsed * 1000,
                        principal.id if principal is not None else "-",
                    )  # fmt: skip


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


# Metric children by label values (`.labels()` hashes and locks on every call). Bounded like the
# label sets themselves: methods x route templates x statuses.
_COUNTERS: dict[tuple[str, str, int], Any] = {}
_HISTOGRAMS: dict[tuple[str, str], Any] = {}
_METRIC_CACHE_MAX = 10_000


def _request_counter(method: str, endpoint: str, status: int) -> Any:
    key = (method, endpoint, status)
    child = _COUNTERS.get(key)
    if child is None:
        child = REQUESTS.labels(method, endpoint, str(status))
        if len(_COUNTERS) < _METRIC_CACHE_MAX:
            _COUNTERS[key] = child
    return child


def _duration_histogram(method: str, endpoint: str) -> Any:
    key = (method, endpoint)
    child = _HISTOGRAMS.get(key)
    if child is None:
        child = DURATION.labels(method, endpoint)
        if len(_HISTOGRAMS) < _METRIC_CACHE_MAX:
            _HISTOGRAMS[key] = child
    return child


# Route templates by (method, path), per app: matching walks every route (twice, with the /api copies),
# and most traffic repeats paths. Bounded: cleared when full (ids in paths make the key space unbounded).
_TEMPLATES_MAX = 20_000


def _cached_route_template(app: Any, scope: Scope, method: str) -> str | None:
    cache = getattr(app, "_aiff_route_templates", None) if app is not None else None
    if cache is None:
        if app is None:
            return _route_template(app, scope)
        cache = {}
        try:
            app._aiff_route_templates = cache
        except AttributeError:
            return _route_template(app, scope)
    key = (method, scope["path"])
    try:
        return cache[key]
    except KeyError:
        pass
    template = _route_template(app, scope)
    if len(cache) >= _TEMPLATES_MAX:
        cache.clear()
    cache[key] = template
    return template


def _route_template(app: Any, scope: Scope) -> str | None:
    """The path template of the route that will serve the request (None when nothing matches)."""
    router = getattr(app, "router", None)
    if router is None:
        return None
    partial: str | None = None
    for route in router.routes:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return getattr(route, "path", None) or scope["path"]
        if match == Match.PARTIAL and partial is None:
            partial = getattr(route, "path", None)
    return partial
