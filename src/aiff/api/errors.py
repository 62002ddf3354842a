"""One JSON error shape for every failure, and the handlers that produce it.

    {"error": {"code": "...", "message": "...", "details": [...]}, "correlation_id": "..."}

Domain errors (`AiffError`) map through their `.status`; `HTTPException` is used only inside `api/`;
anything unexpected becomes a JSON 500 (and is logged with its traceback).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from aiff.errors import AiffError

log = logging.getLogger(__name__)

CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class ErrorDetail(BaseModel):
    code: str = Field(description="Machine-readable error code, e.g. not_found, conflict, validation_error.")
    message: str = Field(description="Human-readable explanation.")
    details: list[Any] | dict[str, Any] | None = Field(
        None, description="For validation errors: one entry per offending field (loc, msg, type)."
    )


class ErrorResponse(BaseModel):
    """Body of every error answer."""

    error: ErrorDetail
    correlation_id: str | None = Field(None, description="The request's X-Correlation-ID, for log searches.")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "error": {"code": "not_found", "message": "ticket 42 not found", "details": None},
                    "correlation_id": "6f1c0f7e9a2b4c1d",
                }
            ]
        }
    }


def _doc(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _doc("Missing, invalid or expired access token."),
    403: _doc("The caller's role may not do this."),
    422: _doc("The request failed validation; `details` names the offending fields."),
    429: _doc("Rate limit reached; retry after the `Retry-After` seconds."),
}
NOT_FOUND = {404: _doc("No such resource.")}
CONFLICT = {409: _doc("The change conflicts with the resource's state (lifecycle, capacity, duplicates).")}


def correlation_id_of(request: Request) -> str | None:
    return getattr(request.state, "correlation_id", None)


def error_body(status: int, message: str, *, code: str | None = None, details: Any = None, correlation_id: str | None = None) -> dict[str, Any]:
    """The JSON error document."""
    return {
        "error": {"code": code or CODES.get(status, "error"), "message": message, "details": details},
        "correlation_id": correlation_id,
    }


def error_response(
    request: Request, status: int, message: str, *, code: str | None = None, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        error_body(status, message, code=code, details=details, correlation_id=correlation_id_of(request)),
        status_code=status,
        headers=headers,
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    details = [
        {"loc": _jsonable(list(e.get("loc", ()))), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in exc.errors()
    ]
    fields = sorted({".".join(str(p) for p in d["loc"][1:]) or str(d["loc"][0]) for d in details if d["loc"]})
    message = "invalid request: " + ", ".join(fields) if fields else "invalid request"
    return error_response(request, 422, message, details=details)


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else CODES.get(exc.status_code, "error")
    headers = getattr(exc, "headers", None)
    if exc.status_code == 503:
        headers = {**retry_after(request), **(headers or {})}
    return error_response(request, exc.status_code, detail, headers=headers)


def retry_after(request: Request) -> dict[str, str]:
    """The `Retry-After` header every 503 carries."""
    settings = getattr(request.app.state, "settings", None)
    return {"Retry-After": str(getattr(settings, "retry_after_s", 5))}


async def _domain(request: Request, exc: AiffError) -> JSONResponse:
    headers = retry_after(request) if exc.status == 503 else None
    details = _jsonable(exc.details) if exc.details is not None else None
    return error_response(request, exc.status, exc.message, code=exc.code, details=details, headers=headers)


def unavailable_dependency(exc: BaseException) -> str | None:
    """Which dependency an outage error comes from, or None when it is not an outage."""
    import asyncpg
    from aiokafka.errors import KafkaError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    from aiff.bootstrap import is_outage

    if not is_outage(exc):
        return None
    if isinstance(exc, (RedisConnectionError, RedisTimeoutError)):
        return "redis"
    if isinstance(exc, KafkaError):
        return "event bus"
    if isinstance(exc, (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError)):
        return "database"
    return "a dependency"


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    dependency = unavailable_dependency(exc)
    if dependency is not None:
        log.warning("%s unavailable on %s %s: %s: %s", dependency, request.method, request.url.path, type(exc).__name__, exc)
        return error_response(
            request, 503, f"{dependency} unavailable ({type(exc).__name__}); retry shortly", headers=retry_after(request)
        )
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(request, 500, "internal server error")


def install(app: FastAPI) -> None:
    """Register the handlers (one per kind of error)."""
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(AiffError, _domain)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)
