from __future__ import annotations

import logging

from apps.core.context import request_id_var, run_id_var


class ContextFilter(logging.Filter):
    """Stamps every record with the current request id and run id."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(record, "request_id", None) or request_id_var.get() or "-"
        record.run_id = getattr(record, "run_id", None) or run_id_var.get()
        return True


class ConsoleFormatter(logging.Formatter):
    """Readable development logs: ``[request-id run=<id>]`` before the logger name."""

    def format(self, record: logging.LogRecord) -> str:
        run_id = getattr(record, "run_id", None)
        record.context = getattr(record, "request_id", "-") + (f" run={run_id}" if run_id else "")
        return super().format(record)
