"""Logging: plain lines for people, JSON lines for log pipelines (``LOG_FORMAT=json``).

Every record carries the id of the web request or the nudge being handled, so
one conversation can be followed across the web process and the workers.
Whatever a log line says, a full phone number never leaves the process: the
formatter masks anything shaped like one to its last four digits, which also
covers provider error texts and tracebacks nobody wrote with care. For the same
reason a database error's values never do: the engine hides bound parameters
(``hide_parameters``), and the formatter hides the row or key values PostgreSQL
puts in an error's DETAIL line.
"""

from __future__ import annotations

import copy
import logging
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import IO, Any

from pythonjsonlogger.json import JsonFormatter

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
nudge_id: ContextVar[int | None] = ContextVar("nudge_id", default=None)

# E.164 (+ and 8 to 15 digits), also inside "tel:" links or provider error texts.
PHONE = re.compile(r"\+\d{4,11}(\d{4})\b")
# PostgreSQL's "DETAIL:  Failing row contains (...)" and "DETAIL:  Key (email)=(...)".
DATABASE_VALUES = re.compile(r"(DETAIL:\s+(?:Failing row contains |Key \([^)\n]*\)=)).*")
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(ids)s %(message)s"
JSON_FIELDS = ["asctime", "levelname", "name", "message", "request_id", "nudge_id"]


def mask_phones(text: str) -> str:
    """Replace every full phone number in the text by its last four digits."""
    return PHONE.sub(lambda match: "..." + match.group(1), text)


def hide_database_values(text: str) -> str:
    """Drop the values PostgreSQL quotes in an error's DETAIL line."""
    return DATABASE_VALUES.sub(r"\1(values hidden)", text)


def scrub(text: str) -> str:
    """What no log line may carry: full phone numbers, values from a database error."""
    return mask_phones(hide_database_values(text))


class ContextFilter(logging.Filter):
    """Adds the current request and nudge ids to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.nudge_id = nudge_id.get()
        ids = [f"request={record.request_id}"] if record.request_id else []
        ids += [f"nudge={record.nudge_id}"] if record.nudge_id is not None else []
        record.ids = f" [{' '.join(ids)}]" if ids else ""
        return True


class MaskingTextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class MaskingJsonFormatter(JsonFormatter):
    # Database values are hidden before JSON encoding, where newlines are still newlines.
    def formatException(self, ei: Any) -> str:
        return hide_database_values(super().formatException(ei))

    def format(self, record: logging.LogRecord) -> str:
        record = copy.copy(record)  # other handlers see the record unchanged
        record.msg, record.args = hide_database_values(record.getMessage()), None
        return mask_phones(super().format(record))


_HANDLER_MARK = "_peernudge_handler"


def configure_logging(
    log_format: str = "text", level: str = "INFO", stream: IO[str] | None = None
) -> None:
    """Install one stderr handler on the root logger (again: replaces our previous one).

    Handlers installed by others (pytest's capture, gunicorn's) are left alone.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    setattr(handler, _HANDLER_MARK, True)
    handler.addFilter(ContextFilter())
    if log_format == "json":
        handler.setFormatter(
            MaskingJsonFormatter(JSON_FIELDS, rename_fields={"levelname": "level"})
        )
    else:
        handler.setFormatter(MaskingTextFormatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)


def incoming_request_id(header: str | None) -> str:
    """The caller's X-Request-ID when it is a sane token, else a fresh one."""
    if header and REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


@contextmanager
def handling_nudge(message_id: int) -> Iterator[None]:
    """Tag log lines written while one nudge is handled with its id."""
    token = nudge_id.set(message_id)
    try:
        yield
    finally:
        nudge_id.reset(token)
