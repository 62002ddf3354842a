"""Logging of the API and workers, configured once: JSON lines for collectors, plain text for a terminal.

`AIFF_LOG_FORMAT=json|text` (default `auto`: text when stderr is a terminal, JSON otherwise). Both formats
carry the correlation id of the request or event being handled, so one id follows a command from the HTTP
request through the events it published into every consumer's lines for them.

Binding a correlation id (a contextvar, so it follows the asyncio task and never leaks between requests):

    with bind_correlation(request_correlation_id):
        ...  # every log line in here has "correlation_id"

Consumers take it from the event's Kafka headers (`correlation_id`, set from `Envelope.correlationid`):

    for record in batch:
        with bind_correlation(correlation_of(record.headers)):
            ...

`correlation_of` accepts aiokafka's `[(name, bytes)]` headers and mappings such as FastStream's
`message.headers`. A batch that mixes ids is best bound per record, or not at all (None binds nothing).

Token redaction (`aiff.api.redact`) happens when records are created, before any formatter, so JSON lines
stay redacted too.
"""

from __future__ import annotations

import logging
import logging.config
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

Format = Literal["json", "text"]
CORRELATION_HEADER = "correlation_id"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET_LOGGERS = ("aiokafka", "alembic")
"""Libraries whose INFO lines are noise for an operator (group joins, migrations' chatter)."""

_correlation: ContextVar[str | None] = ContextVar("aiff_correlation_id", default=None)


@contextmanager
def bind_correlation(correlation_id: str | None) -> Iterator[None]:
    """Tag every log line of the current context with `correlation_id` until the block ends (None: no id)."""
    token = _correlation.set(correlation_id or None)
    try:
        yield
    finally:
        _correlation.reset(token)


def current_correlation() -> str | None:
    """The correlation id bound in this context, if any."""
    return _correlation.get()


def correlation_of(headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | None) -> str | None:
    """The `correlation_id` Kafka header of an event (bytes or str values), or None when absent or empty."""
    if not headers:
        return None
    if isinstance(headers, Mapping):
        value = headers.get(CORRELATION_HEADER)
    else:
        value = next((v for k, v in headers if k == CORRELATION_HEADER), None)
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("utf-8", errors="replace")
    return value or None


class CorrelationFilter(logging.Filter):
    """Adds `correlation_id` (the bound one, or None) to every record; an explicit `extra=` wins."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "correlation_id", None) is None:
            record.correlation_id = _correlation.get()
        return True


class TextFormatter(logging.Formatter):
    """The classic one-line format, with ` [cid=…]` appended when the record has a correlation id."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        cid = getattr(record, "correlation_id", None)
        return f"{line} [cid={cid}]" if cid else line


def json_formatter() -> JsonFormatter:
    """One JSON object per line: time (ISO 8601, UTC), level, logger, message, correlation_id, extras."""
    return JsonFormatter(
        ["levelname", "name", "message"],
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
        # uvicorn adds an ANSI-coloured copy of each message; one message is enough.
        reserved_attrs=[*RESERVED_ATTRS, "color_message"],
    )


class StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is now: Rich's live progress display swaps it to keep lines above its bars."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def resolve_format(setting: str, stream: Any = None) -> Format:
    """`json` or `text` from the setting; `auto` means text on a terminal, JSON anywhere else."""
    setting = (setting or "auto").lower()
    if setting in ("json", "text"):
        return setting  # type: ignore[return-value]
    if setting != "auto":
        raise ValueError(f"AIFF_LOG_FORMAT must be json, text or auto, not {setting!r}")
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return "text" if isatty is not None and isatty() else "json"


def dict_config(fmt: Format, level: int = logging.INFO) -> dict[str, Any]:
    """The `logging.config.dictConfig` of a process; uvicorn gets it too (`log_config`), so its workers match."""
    formatter = {"()": json_formatter} if fmt == "json" else {"()": TextFormatter, "fmt": TEXT_FORMAT}
    inherit = {"handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"correlation": {"()": CorrelationFilter}},
        "formatters": {"main": formatter},
        "handlers": {"stderr": {"()": StderrHandler, "formatter": "main", "filters": ["correlation"]}},
        "root": {"level": logging.getLevelName(level), "handlers": ["stderr"]},
        "loggers": {
            # uvicorn's own config gives its loggers their own handlers and stops propagation; ours sends
            # them through the root handler, the same formatter and the correlation filter.
            **{name: {**inherit, "level": "INFO"} for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
            **{name: {**inherit, "level": "WARNING"} for name in QUIET_LOGGERS},
        },
    }


def configure(fmt: str | None = None, *, verbose: bool = False) -> Format:
    """Configure this process's logging (`fmt` overrides AIFF_LOG_FORMAT); returns the format chosen."""
    if fmt is None:
        from aiff.settings import get_settings

        fmt = get_settings().log_format
    chosen = resolve_format(fmt)
    logging.config.dictConfig(dict_config(chosen, logging.DEBUG if verbose else logging.INFO))
    return chosen
