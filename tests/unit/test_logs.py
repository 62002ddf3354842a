"""aiff.logs: JSON/text lines, AIFF_LOG_FORMAT, and the correlation id from a request or an event's headers."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from aiff import logs
from aiff.api import redact
from aiff.api.middleware import GatewayMiddleware
from aiff.settings import Settings, get_settings

TOUCHED = ("", "uvicorn", "uvicorn.error", "uvicorn.access", *logs.QUIET_LOGGERS)


class Stderr:
    """What the configured handler wrote (it writes to whatever sys.stderr is: here pytest's capture)."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def getvalue(self) -> str:
        return self.capsys.readouterr().err


@pytest.fixture
def stderr(capsys: pytest.CaptureFixture[str]) -> Iterator[Stderr]:
    """The handler's output; the logging configuration is restored afterwards."""
    saved = {n: (lg.handlers[:], lg.level, lg.propagate) for n in TOUCHED for lg in [logging.getLogger(n)]}
    yield Stderr(capsys)
    for name, (handlers, level, propagate) in saved.items():
        lg = logging.getLogger(name)
        lg.handlers[:], lg.level, lg.propagate = handlers, level, propagate


def json_lines(out: str | Stderr, logger_prefix: str = "") -> list[dict]:
    text = out if isinstance(out, str) else out.getvalue()
    return [x for x in map(json.loads, text.splitlines()) if x["logger"].startswith(logger_prefix)]


def _app() -> Starlette:
    async def handler(request: Request) -> PlainTextResponse:
        logging.getLogger("aiff.api.test").info("handling ticket %d", 7)
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/tickets/7", handler)])
    app.add_middleware(GatewayMiddleware)
    return app


async def test_a_request_s_json_lines_carry_its_correlation_id(stderr: Stderr) -> None:
    logs.configure("json")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://t") as client:
        r = await client.get("/tickets/7", headers={"X-Correlation-ID": "req-42"})
        other = await client.get("/tickets/7")
    assert r.status_code == 200
    lines = json_lines(stderr, "aiff")
    handler_lines = [x for x in lines if x["logger"] == "aiff.api.test"]
    access_lines = [x for x in lines if x["logger"] == "aiff.api.access"]
    assert [x["correlation_id"] for x in handler_lines] == ["req-42", other.headers["x-correlation-id"]]
    assert [x["correlation_id"] for x in access_lines] == ["req-42", other.headers["x-correlation-id"]]
    assert handler_lines[0]["message"] == "handling ticket 7" and handler_lines[0]["level"] == "INFO"
    assert logs.current_correlation() is None  # unbound once the request is over


async def test_an_event_s_header_binds_its_id_per_task(stderr: Stderr) -> None:
    logs.configure("json")
    log = logging.getLogger("aiff.consumers.test")

    async def handle(headers: list[tuple[str, bytes]], n: int) -> None:
        with logs.bind_correlation(logs.correlation_of(headers)):
            await asyncio.sleep(0)  # interleave the two handlers
            log.info("applied %d", n)

    await asyncio.gather(handle([("correlation_id", b"evt-1")], 1), handle([("other", b"x"), ("correlation_id", b"evt-2")], 2))
    log.info("between batches")
    by_message = {x["message"]: x["correlation_id"] for x in json_lines(stderr, "aiff")}
    assert by_message == {"applied 1": "evt-1", "applied 2": "evt-2", "between batches": None}


def test_correlation_of_reads_aiokafka_and_mapping_headers() -> None:
    assert logs.correlation_of([("correlation_id", b"abc")]) == "abc"
    assert logs.correlation_of({"correlation_id": "abc", "content-type": "application/json"}) == "abc"
    assert logs.correlation_of([("correlation_id", b"")]) is None
    assert logs.correlation_of([("source", b"crm")]) is None
    assert logs.correlation_of(None) is None


def test_bind_correlation_nests_and_restores() -> None:
    with logs.bind_correlation("outer"):
        with logs.bind_correlation("inner"):
            assert logs.current_correlation() == "inner"
        with logs.bind_correlation(None):
            assert logs.current_correlation() is None
        assert logs.current_correlation() == "outer"
    assert logs.current_correlation() is None


def test_uvicorn_loggers_share_the_formatter_in_its_own_config(stderr: Stderr) -> None:
    config = logs.dict_config("json")
    for _ in range(2):  # uvicorn applies the same dict in every worker process: it must survive reuse
        uvicorn.Config("aiff.api.app:create_app", factory=True, log_config=config, access_log=False)
    with logs.bind_correlation("cid-9"):
        logging.getLogger("uvicorn.error").info("Started server process", extra={"color_message": "\x1b[32mStarted\x1b[0m"})
    (line,) = json_lines(stderr)
    assert line["logger"] == "uvicorn.error" and line["correlation_id"] == "cid-9"
    assert "color_message" not in line


def test_tokens_stay_redacted_in_json(stderr: Stderr) -> None:
    redact.install()
    logs.configure("json")
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    logging.getLogger("uvicorn.access").info('"GET /ws?token=%s&zone=Johor HTTP/1.1" 101', token)
    text = stderr.getvalue()
    (line,) = json_lines(text)
    assert token not in text and "token=[redacted]" in line["message"]


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("setting", "stream", "expected"), [
    ("json", _Tty(), "json"), ("text", io.StringIO(), "text"), ("auto", _Tty(), "text"), ("auto", io.StringIO(), "json"),
])  # fmt: skip
def test_log_format_setting_resolves(setting: str, stream: io.StringIO, expected: str) -> None:
    assert logs.resolve_format(setting, stream) == expected


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_aiff_log_format_chooses_the_line_format(fmt: str, stderr: Stderr, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIFF_LOG_FORMAT", fmt)
    get_settings.cache_clear()
    try:
        assert logs.configure() == fmt
    finally:
        get_settings.cache_clear()
    with logs.bind_correlation("abc-1"):
        logging.getLogger("aiff").warning("consumer %s is behind", "projector")
    (line,) = stderr.getvalue().splitlines()
    if fmt == "json":
        assert json.loads(line) | {"time": None} == {
            "level": "WARNING", "logger": "aiff", "message": "consumer projector is behind", "correlation_id": "abc-1", "time": None,
        }
    else:
        assert line.endswith(" WARNING aiff: consumer projector is behind [cid=abc-1]")


def test_aiff_log_format_rejects_other_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIFF_LOG_FORMAT", "yaml")
    with pytest.raises(ValidationError, match="AIFF_LOG_FORMAT"):
        Settings()
