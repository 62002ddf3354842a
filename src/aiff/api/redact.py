"""Keep access tokens out of the logs: websocket URLs carry `?token=<JWT>` and uvicorn logs them.

Installed once per API process as a log-record factory, so it covers every logger and handler (uvicorn's
access and error logs, ours, libraries'), whatever logging configuration runs before or after.
"""

from __future__ import annotations

import logging
import re
from typing import Any

REDACTED = "[redacted]"
_TOKEN_PARAM = re.compile(r"(?i)((?:^|[?&;\s\"'])(?:access_token|token|jwt)=)[^&\s\"']*")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def redact(text: str) -> str:
    """`text` with token query parameters, bearer credentials and anything shaped like a JWT replaced."""
    if "=" not in text and "eyJ" not in text and "earer" not in text:
        return text
    text = _TOKEN_PARAM.sub(lambda m: m.group(1) + REDACTED, text)
    text = _BEARER.sub(lambda m: m.group(1) + REDACTED, text)
    return _JWT.sub(REDACTED, text)


def _clean(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


_installed = False


def install() -> None:
    """Redact every log record created from now on in this process (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if record.args:
            # Redact the formatted message: redacting the format string alone would eat the `%s` of
            # `"token=%s"` and leave its argument without a placeholder (a logging error, token unseen).
            try:
                record.msg, record.args = redact(record.getMessage()), ()
            except (TypeError, ValueError):  # a broken format: logging reports it; still hide what we can
                record.msg = _clean(record.msg)
                if isinstance(record.args, tuple):
                    record.args = tuple(_clean(a) for a in record.args)
                elif isinstance(record.args, dict):
                    record.args = {k: _clean(v) for k, v in record.args.items()}
        else:
            record.msg = _clean(record.msg)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
